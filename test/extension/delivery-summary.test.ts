import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deliverySummary } from '../../src/core/git/delivery-summary.ts';
import type { RunRecord } from '../../src/core/model/records.ts';
import type { RunDelivery } from '../../src/core/model/run-delivery.ts';
import { renderRunSummary } from '../../src/extension/presenters/documents.ts';
import { workflowToast } from '../../src/extension/presenters/notification-policy.ts';
import { presentRun } from '../../src/extension/presenters/tree-items.ts';

function finishedRun(delivery: RunDelivery, state: RunRecord['state'] = 'completed'): RunRecord {
  const now = Date.now();
  return { id: 'r1234567890', name: 'fix', inputs: {}, state, single: false, cwd: '/p', createdAt: now - 2000, finishedAt: now, delivery };
}

const LOCAL: RunDelivery = {
  workspace: 'worktree',
  branch: 'orchestr8/fix-r123456',
  baseBranch: 'main',
  baseSha: 'abcdef0123456789',
  changed: true,
  commits: 2,
  noPullRequest: 'no GitHub session in VS Code',
};

test('the completion toast, the result document and the tree say where the code went: branch, commits, not pushed, why no pull request', () => {
  const run = finishedRun(LOCAL);
  const toast = workflowToast(run, [], 'all')!;
  assert.match(toast.message, /completed in \S+\. Branch orchestr8\/fix-r123456, 2 commits, kept local, no pull request: no GitHub session in VS Code\.$/);
  assert.ok(toast.actions.some((a) => a.title === 'Review Changes' && a.command === 'orchestr8.reviewChanges'));
  const doc = renderRunSummary(run, [], new Map(), Date.now());
  assert.match(
    doc,
    /## Code\n\n- Branch: `orchestr8\/fix-r123456` from `main` at abcdef0123\n- Commits: 2\n- Pushed: no, the branch is local\n- Pull request: none — no GitHub session in VS Code/,
  );
  const row = presentRun(run, undefined, Date.now());
  assert.match(row.description, /2 commits · local branch/);
  assert.match(row.tooltip, /Code: Branch orchestr8\/fix\\-r123456, 2 commits, kept local/); // markdown-escaped
  assert.match(row.contextValue, /:branch/);
});

test('a pushed branch with its pull request, a failed push, a run that changed nothing, a run in place', () => {
  const pr = deliverySummary(
    finishedRun({ ...LOCAL, noPullRequest: undefined, pushedTo: 'origin', pullRequest: { url: 'https://github.com/o/r/pull/7', number: 7 } }),
  );
  assert.equal(pr.sentence, 'Branch orchestr8/fix-r123456, 2 commits, pushed to origin, pull request #7.');
  assert.equal(pr.short, '2 commits · PR #7');
  const rejected = deliverySummary(finishedRun({ ...LOCAL, noPullRequest: 'push failed', pushError: 'push of x to origin failed: rejected' }));
  assert.match(rejected.sentence!, /not pushed \(push failed\), no pull request: push failed\.$/);
  const nothing = deliverySummary(finishedRun({ ...LOCAL, changed: false, commits: 0, noPullRequest: 'no changes' }));
  assert.equal(nothing.sentence, 'Branch orchestr8/fix-r123456, no changes.');
  assert.equal(deliverySummary(finishedRun({ workspace: 'in-place' })).sentence, 'It worked in the project folder itself: no branch.');
  assert.equal(deliverySummary(finishedRun({}, 'running')).sentence, undefined);
});
