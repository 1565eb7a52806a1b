/** The agent SDK's module: `query()` and its types. */
export type ClaudeAgentSdk = typeof import('@anthropic-ai/claude-agent-sdk');

let loading: Promise<ClaudeAgentSdk> | undefined;

/**
 * Loads `@anthropic-ai/claude-agent-sdk` the first time a claude-code task runs, never at
 * start-up: it is 1.4 MB of JavaScript that most sessions never need. The bundles map this
 * import to their sibling `dist/claude-agent-sdk.cjs` (see esbuild.mjs).
 */
export function loadClaudeAgentSdk(): Promise<ClaudeAgentSdk> {
  loading ??= import('@anthropic-ai/claude-agent-sdk').catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}
