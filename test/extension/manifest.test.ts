import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { COMMAND_IDS } from '../../src/extension/commands/command-ids.ts';
import { presentRun, presentTask } from '../../src/extension/presenters/tree-items.ts';
import type { RunRecord, TaskRecord } from '../../src/core/model/records.ts';
import { RUN_STATES, TASK_STATES } from '../../src/core/model/task-state.ts';
import { DEFAULT_ALLOWED_DOMAINS } from '../../src/core/sandbox/sandbox-policy.ts';

interface MenuItem {
  command: string;
  when?: string;
  group?: string;
}
const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

test('activation only on its commands, views, documents, links, workflow files and the workflow language: never "*" or startup', () => {
  const events: string[] = pkg.activationEvents;
  assert.ok(!events.includes('*') && !events.includes('onStartupFinished'));
  // VS Code (1.74 and later; engines.vscode is newer) derives onCommand, onView and onLanguage from
  // contributes.commands, .views and .languages: listed here they would only repeat it. What remains is
  // what no contribution says: links, the orchestr8: documents a restored editor reads, workflow files.
  assert.deepEqual(events, [
    'onUri',
    'onFileSystem:orchestr8',
    'workspaceContains:.orchestr8/workflows/*.yaml',
    'workspaceContains:.orchestr8/workflows/*.yml',
  ]);
  assert.deepEqual(
    pkg.contributes.views.orchestr8.map((v: { id: string }) => v.id),
    ['orchestr8.runs'],
  );
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
});

test('every command in code is contributed, in category Orchestr8, and vice versa', () => {
  const contributed = pkg.contributes.commands.map((c: { command: string }) => c.command).sort();
  assert.deepEqual(contributed, Object.values(COMMAND_IDS).sort());
  for (const c of pkg.contributes.commands) assert.equal(c.category, 'Orchestr8', c.command);
  const titles = Object.fromEntries(pkg.contributes.commands.map((c: { command: string; title: string }) => [c.command, c.title]));
  assert.equal(titles['orchestr8.launchWorkflow'], 'Launch Workflow…');
  assert.equal(titles['orchestr8.setApiKey'], 'Set Anthropic API Key');
  assert.equal(titles['orchestr8.installCommandLine'], 'Install Command Line');
  assert.equal(titles['orchestr8.resolveMergeConflict'], 'Resolve Merge Conflict…');
});

test('the .vsix ships the command line: cli.cjs and the bundles it loads', () => {
  const shipped = fs.readFileSync(new URL('../../.vscodeignore', import.meta.url), 'utf8').split('\n');
  for (const bundle of ['dist/cli.cjs', 'dist/cli-read.cjs', 'dist/cli-validate.cjs', 'dist/engine-runtime.cjs', 'dist/index-worker.cjs', 'dist/sql-wasm.wasm'])
    assert.ok(shipped.includes(`!${bundle}`), bundle);
});

test('settings: concurrency, default model, notification level, history retention, API base URL, agent runtime, Claude Code path, Redis, webhooks, sandbox', () => {
  const props = pkg.contributes.configuration.properties;
  assert.deepEqual(Object.keys(props).sort(), [
    'orchestr8.agentRuntime',
    'orchestr8.anthropicBaseUrl',
    'orchestr8.budget.tokens',
    'orchestr8.budget.usd',
    'orchestr8.claudeCodePath',
    'orchestr8.concurrency',
    'orchestr8.defaultModel',
    'orchestr8.git.branchRetentionDays',
    'orchestr8.git.push',
    'orchestr8.historyRetentionDays',
    'orchestr8.notifications',
    'orchestr8.permissionTimeout',
    'orchestr8.permissions.allow',
    'orchestr8.permissions.deny',
    'orchestr8.redisUrl',
    'orchestr8.sandbox.allowWrite',
    'orchestr8.sandbox.allowedDomains',
    'orchestr8.sandbox.runTasks',
    'orchestr8.webhooks.urls',
  ]);
  // The manifest shows the same default allow-list the core uses.
  assert.deepEqual(props['orchestr8.sandbox.allowedDomains'].default, DEFAULT_ALLOWED_DOMAINS);
  // What widens the sandbox is read from user settings only (settings.ts), like the API base URL.
  for (const key of ['orchestr8.sandbox.allowedDomains', 'orchestr8.sandbox.allowWrite', 'orchestr8.permissions.allow']) {
    assert.match(props[key].markdownDescription, /user settings only/);
    assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes(key), key);
  }
  assert.deepEqual(props['orchestr8.notifications'].enum, ['all', 'failures', 'none']);
  // A workspace's own settings must not redirect the user's API key to another server.
  // (settings.ts reads only its user-level value; the manifest says so.)
  assert.match(props['orchestr8.anthropicBaseUrl'].markdownDescription, /user settings only/);
  // Nor choose the program a claude-code task runs.
  assert.match(props['orchestr8.claudeCodePath'].markdownDescription, /user settings only/);
  assert.deepEqual(props['orchestr8.agentRuntime'].enum, ['orchestr8', 'claude-code']);
  for (const key of ['orchestr8.anthropicBaseUrl', 'orchestr8.agentRuntime', 'orchestr8.claudeCodePath', 'orchestr8.redisUrl', 'orchestr8.webhooks.urls'])
    assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes(key), key);
});

/** Which tree-item commands a row offers, by evaluating the `viewItem =~ /…/` clauses of package.json on its contextValue. */
function itemCommands(contextValue: string, readOnly = false): string[] {
  const items: MenuItem[] = pkg.contributes.menus['view/item/context'];
  return [
    ...new Set(
      items
        .filter((item) => {
          const when = item.when ?? '';
          if (readOnly && when.includes('!orchestr8.readOnly')) return false;
          const m = /viewItem =~ \/(.+?)\/(?: |$)/.exec(when);
          return !m || new RegExp(m[1]!).test(contextValue);
        })
        .map((i) => i.command.replace('orchestr8.', '')),
    ),
  ].sort();
}

const run = (state: RunRecord['state'], extra: Partial<RunRecord> = {}): RunRecord => ({
  id: 'r',
  name: 'n',
  inputs: {},
  state,
  single: false,
  cwd: '/',
  createdAt: 0,
  ...extra,
});
const task = (state: TaskRecord['state'], extra: Partial<TaskRecord> = {}): TaskRecord => ({
  id: 'r.t',
  runId: 'r',
  key: 't',
  name: 't',
  action: { kind: 'run', run: 'true' },
  needs: [],
  state,
  priority: 0,
  order: 0,
  attempt: 1,
  retry: { max: 0, backoffMs: 0, factor: 2, maxDelayMs: 0, jitter: false },
  continueOnError: false,
  updatedAt: 0,
  ...extra,
});

test('tree rows offer the actions their state allows (contextValue from presenters × when clauses from the manifest)', () => {
  const offered = (cv: string) => itemCommands(cv);
  assert.deepEqual(offered(presentRun(run('running'), undefined, 0).contextValue), ['cancel', 'copyLink', 'openResult', 'pauseRun']);
  assert.deepEqual(offered(presentRun(run('paused'), undefined, 0).contextValue), ['cancel', 'copyLink', 'openResult', 'resumeRun']);
  const asking = task('needs-input', { request: { kind: 'permission', id: 't', tool: 'Bash', call: 'Bash(ls)', rule: 'Bash(ls:*)', askedAt: 0 } });
  assert.deepEqual(offered(presentTask(asking, 0).contextValue), ['allowForRun', 'allowOnce', 'cancel', 'copyLink', 'deny', 'showLog']);
  const atBudget = task('needs-input', { request: { kind: 'budget', id: 'b', scope: 'task', budget: { usd: 1 }, spent: { usd: 1, tokens: 1 }, askedAt: 0 } });
  assert.deepEqual(offered(presentTask(atBudget, 0).contextValue), ['cancel', 'copyLink', 'raiseBudget', 'showLog', 'stopAtBudget']);
  assert.deepEqual(itemCommands(presentTask(asking, 0).contextValue, true), ['copyLink', 'showLog'], 'a read-only window cannot answer');
  assert.deepEqual(offered(presentRun(run('failed', { file: '/w.yaml' }), undefined, 0).contextValue), ['copyLink', 'openResult', 'openWorkflowFile', 'retry']);
  assert.deepEqual(
    offered(presentRun(run('completed', { delivery: { pullRequest: { url: 'https://x.example/p/1', number: 1 } } }), undefined, 0).contextValue),
    ['copyLink', 'openPullRequest', 'openResult'],
  );
  assert.deepEqual(offered(presentTask(task('running'), 0).contextValue), ['cancel', 'copyLink', 'showLog']);
  assert.deepEqual(offered(presentTask(task('completed'), 0).contextValue), ['copyLink', 'openResult', 'showLog']);
  assert.deepEqual(offered(presentTask(task('failed'), 0).contextValue), ['copyLink', 'retry', 'showLog']);
  assert.deepEqual(offered(presentTask(task('skipped'), 0).contextValue), ['copyLink', 'retry', 'showLog']);
  assert.deepEqual(offered(presentTask(task('waiting'), 0).contextValue), ['approveWait', 'cancel', 'copyLink', 'rejectWait', 'showLog']);
  assert.deepEqual(itemCommands(presentTask(task('failed'), 0).contextValue, true), ['copyLink', 'showLog'], 'read-only windows offer no changes');
  const mergeConflict = { files: ['a.ts'], taskBranch: 'o/run--t', worktree: '/w/t', runBranch: 'o/run', runWorktree: '/w' };
  assert.deepEqual(offered(presentTask(task('failed', { mergeConflict }), 0).contextValue), ['copyLink', 'resolveMergeConflict', 'retry', 'showLog']);
  assert.deepEqual(
    itemCommands(presentTask(task('failed', { mergeConflict }), 0).contextValue, true),
    ['copyLink', 'showLog'],
    'resolving ends in a retry: not from a read-only window',
  );
  assert.deepEqual(
    offered(presentTask(task('pending', { mergeConflict }), 0).contextValue),
    ['cancel', 'copyLink', 'showLog'],
    'a conflict only on a failed task',
  );
  assert.deepEqual(itemCommands(presentTask(task('waiting'), 0).contextValue, true), ['copyLink', 'showLog'], 'nor answers');
  const agent = (state: TaskRecord['state']): TaskRecord => ({ ...task(state), action: { kind: 'agent', agent: 'scribe', prompt: 'notes' } });
  assert.deepEqual(offered(presentTask(agent('completed'), 0).contextValue), ['continueTask', 'copyLink', 'openResult', 'showLog', 'showTranscript']);
  assert.deepEqual(
    offered(presentTask(agent('running'), 0).contextValue),
    ['cancel', 'copyLink', 'showLog', 'showTranscript'],
    'a running agent is not continued, only watched',
  );
  assert.deepEqual(itemCommands(presentTask(agent('failed'), 0).contextValue, true), ['copyLink', 'showLog', 'showTranscript']);
  // Every state yields a contextValue some clause was written for.
  for (const s of RUN_STATES) assert.ok(offered(presentRun(run(s), undefined, 0).contextValue).length > 0, s);
  for (const s of TASK_STATES) assert.ok(offered(presentTask(task(s), 0).contextValue).length > 0, s);
});

test('the activity-bar icon and the files the .vsix needs are in place', () => {
  const container = pkg.contributes.viewsContainers.activitybar[0];
  assert.ok(fs.existsSync(new URL(`../../${container.icon}`, import.meta.url)));
  const ignore = fs.readFileSync(new URL('../../.vscodeignore', import.meta.url), 'utf8');
  for (const file of ['dist/extension.cjs', 'dist/engine-runtime.cjs', 'dist/index-worker.cjs', 'dist/claude-agent-sdk.cjs', 'dist/sql-wasm.wasm', 'media/**'])
    assert.ok(ignore.includes(`!${file}`), file);
});
