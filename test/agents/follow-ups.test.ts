import assert from 'node:assert/strict';
import { test } from 'node:test';
import { takeFollowUps, type AgentCheckpoint } from '../../src/core/agents/agent-checkpoint.ts';

const answered: AgentCheckpoint = {
  version: 1,
  agent: 'scribe',
  model: 'claude-sonnet-4-6',
  turn: 2,
  messages: [
    { role: 'user', content: 'Write notes' },
    { role: 'assistant', content: [{ type: 'text', text: 'Done.' }] },
  ],
};

test('a follow-up becomes the next user turn once, and the turn limit counts from it', () => {
  const next = takeFollowUps(answered, ['Also a TODO'])!;
  assert.deepEqual(next.messages.at(-1), { role: 'user', content: 'Also a TODO' });
  assert.equal(next.followUpsTaken, 1);
  assert.equal(next.followUpAt, 2);
  // Saved before the request: a resumed attempt finds it taken and sends nothing twice.
  assert.equal(takeFollowUps(next, ['Also a TODO']), undefined);
  const later = { ...next, messages: [...next.messages, { role: 'assistant' as const, content: 'Added.' }] };
  assert.deepEqual(takeFollowUps(later, ['Also a TODO', 'And a README', 'and tests'])!.messages.at(-1), { role: 'user', content: 'And a README\n\nand tests' });
});

test('a conversation stopped mid-turn (tool calls pending) finishes before the follow-up is taken', () => {
  const midTurn: AgentCheckpoint = {
    ...answered,
    messages: [answered.messages[0]!, { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'read_file', input: { path: 'a' } }] }],
  };
  assert.equal(takeFollowUps(midTurn, ['more']), undefined);
  assert.equal(takeFollowUps(answered, undefined), undefined);
  assert.equal(takeFollowUps(answered, []), undefined);
});
