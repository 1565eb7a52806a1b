import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunRecord } from '../../src/core/model/records.ts';
import { notificationOf, runUri } from '../../src/servers/mcp/mcp-server.ts';

const run: RunRecord = { id: 'abc123', name: 'fix', inputs: {}, state: 'completed', single: false, cwd: '/p', createdAt: 1, finishedAt: 2, finalized: true };

test("an MCP client hears of a run's pull request when run.delivered carries one", () => {
  const delivered = { ...run, delivery: { branch: 'orchestr8/fix-abc123', pullRequest: { url: 'https://github.example/acme/widgets/pull/5', number: 5 } } };
  assert.deepEqual(notificationOf({ type: 'run.delivered', run: delivered }), {
    level: 'info',
    data: {
      event: 'run.delivered',
      runId: 'abc123',
      name: 'fix',
      pullRequestUrl: 'https://github.example/acme/widgets/pull/5',
      branch: 'orchestr8/fix-abc123',
    },
    uris: [runUri('abc123')],
  });
  assert.equal(
    notificationOf({ type: 'run.delivered', run: { ...run, delivery: { branch: 'orchestr8/fix-abc123' } } }),
    undefined,
    'a branch alone is not worth a message',
  );
});
