import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { COMMAND_IDS } from '../../src/extension/commands/command-ids.ts';

test('command ids are named through COMMAND_IDS, never spelled out beside it', () => {
  const root = path.join(process.cwd(), 'src/extension');
  const ids = new Set<string>(Object.values(COMMAND_IDS));
  const spelled: string[] = [];
  for (const file of fs.readdirSync(root, { recursive: true }) as string[]) {
    if (!file.endsWith('.ts') || file.endsWith('command-ids.ts')) continue;
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    for (const [, id] of text.matchAll(/['"`](orchestr8\.\w+)['"`]/g)) if (ids.has(id!)) spelled.push(`${file}: ${id}`);
  }
  assert.deepEqual(spelled, [], 'a renamed command would leave these behind');
});
