import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway project folder with agent files in `.orchestr8/agents/`. */
export interface AgentProject {
  root: string;
  dispose(): Promise<void>;
}

export async function makeAgentProject(
  agents: Record<string, { frontmatter?: string; prompt?: string }>,
  files: Record<string, string> = {},
): Promise<AgentProject> {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'o8-agent-project-')));
  await mkdir(join(root, '.orchestr8/agents'), { recursive: true });
  for (const [name, spec] of Object.entries(agents)) {
    const text = `---\nname: ${name}\ndescription: test agent ${name}\n${spec.frontmatter ?? ''}---\n${spec.prompt ?? `You are ${name}.`}\n`;
    await writeFile(join(root, '.orchestr8/agents', `${name}.md`), text);
  }
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), content);
  }
  return { root, dispose: () => rm(root, { recursive: true, force: true }) };
}
