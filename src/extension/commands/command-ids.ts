/** Every command the manifest contributes; package.json and this list must agree (a unit test checks). */
export const COMMAND_IDS = {
  launchWorkflow: 'orchestr8.launchWorkflow',
  launchAgentTask: 'orchestr8.launchAgentTask',
  cancel: 'orchestr8.cancel',
  retry: 'orchestr8.retry',
  approveWait: 'orchestr8.approveWait',
  rejectWait: 'orchestr8.rejectWait',
  openLink: 'orchestr8.openLink',
  copyLink: 'orchestr8.copyLink',
  continueTask: 'orchestr8.continueTask',
  showTranscript: 'orchestr8.showTranscript',
  openResult: 'orchestr8.openResult',
  showLog: 'orchestr8.showLog',
  openPullRequest: 'orchestr8.openPullRequest',
  setApiKey: 'orchestr8.setApiKey',
  setWebhookSecret: 'orchestr8.setWebhookSecret',
  clearFinished: 'orchestr8.clearFinished',
  openWorkflowFile: 'orchestr8.openWorkflowFile',
  refresh: 'orchestr8.refresh',
  loadMore: 'orchestr8.loadMore',
  showOutput: 'orchestr8.showOutput',
  installCommandLine: 'orchestr8.installCommandLine',
} as const;

export type CommandId = (typeof COMMAND_IDS)[keyof typeof COMMAND_IDS];
