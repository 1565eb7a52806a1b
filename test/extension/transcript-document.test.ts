import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transcriptOf } from '../../src/core/agents/transcript.ts';
import type { TaskRecord } from '../../src/core/model/records.ts';
import { renderTranscript } from '../../src/extension/presenters/transcript-document.ts';
import { taskId } from '../../src/core/util/ids.ts';

const checkpoint = {
  version: 1,
  agent: 'scribe',
  model: 'm',
  turn: 2,
  messages: [
    { role: 'user', content: 'Write notes' },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Writing them.' },
        { type: 'tool_use', id: 't1', name: 'write_file', input: { path: 'NOTES.md' } },
      ],
    },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'wrote NOTES.md' }] },
    { role: 'assistant', content: [{ type: 'text', text: 'Done.' }] },
    { role: 'user', content: 'Also a TODO' },
  ],
};

const task = (state: TaskRecord['state']): TaskRecord =>
  ({
    id: taskId('r1', 'task'),
    runId: 'r1',
    key: 'task',
    name: 'scribe: Write notes',
    state,
    attempt: 2,
    action: { kind: 'agent', agent: 'scribe', prompt: 'Write notes' },
  }) as TaskRecord;

test('the transcript reads the conversation from the checkpoint: prompts, answers, tool calls and their results', () => {
  const entries = transcriptOf(checkpoint);
  assert.deepEqual(entries, [
    { kind: 'prompt', text: 'Write notes' },
    { kind: 'answer', text: 'Writing them.' },
    { kind: 'tool-call', tool: 'write_file', input: '{"path":"NOTES.md"}' },
    { kind: 'tool-result', tool: 'write_file', text: 'wrote NOTES.md', error: false },
    { kind: 'answer', text: 'Done.' },
    { kind: 'prompt', text: 'Also a TODO' },
  ]);
  assert.deepEqual(transcriptOf(undefined), []);
  assert.deepEqual(transcriptOf({ sessionId: 'claude-code' }), []);
});

test('a running task’s transcript ends with the turn being streamed (the log after the last finished turn)', () => {
  const log =
    '--- attempt 2 ---\n[agent scribe: resuming from checkpoint after turn 2]\nAdding\n[turn 2: 10 in, 5 out, cache 0 written / 0 read, $0.0001]\nAdding the TODO list now';
  const running = renderTranscript(task('running'), transcriptOf(checkpoint), log);
  assert.match(running, /^# scribe: Write notes — transcript\n\nTask `r1\.task` · running · attempt 2 · updates live/);
  assert.match(running, /\*\*You\*\*\n\n> Write notes/);
  assert.match(running, /→ `write_file` ` \{"path":"NOTES\.md"\} `/);
  assert.match(running, /← `write_file`\n\n```text\nwrote NOTES\.md\n```/);
  assert.match(running, /_\(this turn, as it streams\)_\n\nAdding the TODO list now\n$/);
  const done = renderTranscript(task('completed'), transcriptOf(checkpoint), log);
  assert.doesNotMatch(done, /as it streams|updates live/, 'a finished transcript is final');
});
