// What the agent suites share: the repo's local Messages server (src/devtools/fake-anthropic/), its
// scripted replies, and an agent that writes notes into the project.
import { tsImport } from 'tsx/esm/api';

export const { FakeAnthropicServer } = await tsImport('../../src/devtools/fake-anthropic/fake-anthropic-server.ts', import.meta.url);
export const { textReply, toolReply } = await tsImport('../../src/devtools/fake-anthropic/scripted-response.ts', import.meta.url);

export const SCRIBE = `---
name: scribe
description: Writes short notes into the project
tools: Read, Write
---
You write short, accurate notes.
`;
