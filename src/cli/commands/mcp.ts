import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import packageJson from '../../../package.json' with { type: 'json' };
import type { ToolHost } from '../../servers/agent-tools/task-operations.ts';
import { createMcpServer } from '../../servers/mcp/mcp-server.ts';
import { StateFolderAccess } from '../../servers/mcp/state-access.ts';
import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { ExitCode } from '../cli-error.ts';
import { cliRunners } from '../cli-runners.ts';
import { defaultConcurrency } from '../engine-access.ts';

/**
 * `orchestr8 mcp`: the MCP server on stdio (stdout is the protocol; logs go to stderr).
 * Becomes the owner of the project's state for as long as it has runs of its own
 * (when nobody else owns it) and runs their tasks itself, serving the local API
 * meanwhile; otherwise it reads the owner's state and sends launches and cancels to
 * the owner's local API. When the client hangs up, runs still going are finished first; a
 * SIGTERM stops at once, and interrupted tasks resume under the next owner.
 */
export async function mcpCommand(options: GlobalOptions): Promise<number> {
  const ctx = cliContext(options);
  const access = new StateFolderAccess({
    stateDir: ctx.stateDir,
    cwd: ctx.projectRoot,
    logger: ctx.logger,
    command: 'orchestr8 mcp',
    runners: cliRunners(),
    concurrency: defaultConcurrency(),
    // While it owns the state: results (worktrees, pull requests, webhooks) and the local API for the CLI and others.
    services: { api: true },
  });
  const host: ToolHost = { use: (fn, mode) => access.use(fn, mode), onEvent: access.onEvent, root: ctx.projectRoot };
  const mcp = createMcpServer({ host, version: packageJson.version, logger: ctx.logger });
  const hungUp = new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
  });
  const signalled = new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await mcp.server.connect(new StdioServerTransport());
  ctx.logger.info(`MCP server ready (${access.mode}, state ${ctx.stateDir})`);

  const first = await Promise.race([hungUp.then(() => 'hung-up' as const), signalled.then(() => 'signal' as const)]);
  if (first === 'hung-up' && access.activeRunCount > 0) {
    process.stderr.write(`orchestr8 mcp: the client left; finishing ${access.activeRunCount} run(s) first\n`);
    const idle = new Promise<void>((resolve) => {
      const check = () => access.activeRunCount === 0 && resolve();
      access.onEvent((event) => event.type.startsWith('workflow.') && setImmediate(check));
      check();
    });
    await Promise.race([idle, signalled]);
  }
  mcp.dispose();
  await mcp.server.close().catch(() => {});
  await access.close();
  return ExitCode.ok;
}
