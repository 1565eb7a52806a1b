import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FakeAnthropicServer } from '../../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { tempDir } from './temp-dir.ts';

/**
 * A project for claude-code runtime tests, two folders below a temp folder of its own
 * (`<outer>/work/project`), so that an agent's `../../x` lands in `<outer>` (checked by
 * the test) and never in a shared folder. Claude Code's own config and session
 * transcripts go to `<outer>/claude-config`, not the user's ~/.claude.
 */
export interface ClaudeCodeProject {
  outer: string;
  root: string;
  configDir: string;
  /** Environment for Claude Code: the local Messages server, its key, the isolated config, no non-essential traffic. */
  env(server: FakeAnthropicServer): NodeJS.ProcessEnv;
}

export function makeClaudeCodeProject(agents: Record<string, { frontmatter?: string; prompt: string }>): ClaudeCodeProject {
  const outer = realpathSync(tempDir('o8-claude-code-'));
  const root = join(outer, 'work', 'project');
  const configDir = join(outer, 'claude-config');
  mkdirSync(join(root, '.orchestr8', 'agents'), { recursive: true });
  mkdirSync(configDir, { recursive: true });
  for (const [name, spec] of Object.entries(agents)) {
    writeFileSync(
      join(root, '.orchestr8', 'agents', `${name}.md`),
      `---\nname: ${name}\ndescription: test agent ${name}\n${spec.frontmatter ?? ''}---\n${spec.prompt}\n`,
    );
  }
  return {
    outer,
    root,
    configDir,
    env: (server) => ({
      ...process.env,
      ANTHROPIC_API_KEY: server.apiKey,
      ANTHROPIC_BASE_URL: server.url,
      CLAUDE_CONFIG_DIR: configDir,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    }),
  };
}
