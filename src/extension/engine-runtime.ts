/**
 * The heavy half of the extension, bundled apart (`dist/engine-runtime.cjs`) and loaded only after
 * activation: the engine with sql.js, and the workflow parser with zod and yaml take ~300 ms to load,
 * three times the activation budget. `runtime-loader.ts` loads it; nothing else imports it at run time.
 */
export { openWorkspaceEngine, tryOpenOwner } from './open-engine.ts';
export { prepareWorkspaceStore } from './store-migration.ts';
export { parseWorkflow } from '../core/workflow/parse-workflow.ts';
export { parse as parseYaml } from 'yaml';
export * as agentTools from '../servers/agent-tools/task-operations.ts';
/** The CLI's commands (see src/cli/command-loader.ts): evaluated only when `orchestr8` asks, never in the extension. */
export const loadCliCommands = () => import('../cli/cli-commands.ts');
