import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { RunHooks } from '../../src/core/engine/run-hooks.ts';
import type { EngineEvent } from '../../src/core/model/events.ts';
import { CompletionToasts } from '../../src/extension/presenters/completion-toasts.ts';
import type { ToastView } from '../../src/extension/presenters/notification-policy.ts';
import { until } from '../support/until.ts';
import { openEngine, workflow, type EngineFixture } from './real-engine.ts';

let releasePullRequest!: () => void;
const pullRequestReleased = new Promise<void>((resolve) => (releasePullRequest = resolve));

/**
 * A publish step like GitRunHooks': the pull request of a run named `pr-after-<ms>` is ready that
 * many ms after it finished; that of `pr-when-released`, when the test calls releasePullRequest().
 */
const slowPullRequest: RunHooks = {
  runFinished: async (run) => {
    if (run.name === 'pr-when-released') {
      await pullRequestReleased;
      return { delivery: { pullRequest: { url: 'https://github.example/acme/widgets/pull/7', number: 7 } } };
    }
    const ms = Number(/^pr-after-(\d+)$/.exec(run.name)?.[1]);
    if (!Number.isFinite(ms)) return;
    await new Promise((r) => setTimeout(r, ms));
    return { delivery: { pullRequest: { url: `https://github.example/acme/widgets/pull/${ms}`, number: ms } } };
  },
};

let fx: EngineFixture;
before(async () => {
  fx = await openEngine({ hooks: [slowPullRequest] });
});
after(async () => fx.close());

/** The extension's wiring (notifier.ts): final-state events and run.delivered into CompletionToasts. */
function toastsFor(runId: string, waitMs: number) {
  const shown: ToastView[] = [];
  const toasts = new CompletionToasts(
    (v) => v && shown.push(v),
    () => 'all',
    waitMs,
  );
  const sub = fx.engine.onEvent((e: EngineEvent) => {
    if (e.type === 'workflow.completed' && e.run.id === runId) toasts.finished(e.run, []);
    if (e.type === 'run.delivered' && e.run.id === runId) toasts.delivered(e.run);
  });
  return { shown, dispose: () => (sub.dispose(), toasts.dispose()) };
}

async function launched(name: string): Promise<string> {
  return (await fx.engine.launch({ workflow: workflow(`name: ${name}\ntasks:\n  a:\n    run: "true"\n`) })).runId;
}

test('the completion toast waits for the pull request being opened and offers "Open Pull Request"', async () => {
  let runId = '';
  const listening = toastsFor((runId = await launched('pr-after-300')), 5000);
  try {
    await fx.next('run.delivered', (e) => e.run.id === runId && e.run.finalized === true);
    assert.equal(listening.shown.length, 1, 'one toast, not two');
    assert.deepEqual(
      listening.shown[0]!.actions.map((a) => a.title),
      ['Open Result', 'Open Pull Request'],
    );
    assert.deepEqual(listening.shown[0]!.actions[1]!.args, [{ runId }]);
  } finally {
    listening.dispose();
  }
});

test('a pull request that comes after the wait gets its own toast with "Open Pull Request"', async () => {
  let runId = '';
  const listening = toastsFor((runId = await launched('pr-when-released')), 100);
  try {
    // The pull request is held until the toast has shown, however long a loaded machine takes.
    await until('the completion toast', () => listening.shown.length > 0, 10_000);
    assert.deepEqual(
      listening.shown.map((t) => t.actions.map((a) => a.title)),
      [['Open Result']],
      'the completion did not wait for a slow push',
    );
    releasePullRequest();
    await fx.next('run.delivered', (e) => e.run.id === runId && e.run.finalized === true);
    assert.equal(listening.shown.length, 2);
    assert.match(listening.shown[1]!.message, /opened a pull request/);
    assert.deepEqual(
      listening.shown[1]!.actions.map((a) => a.title),
      ['Open Pull Request'],
    );
  } finally {
    releasePullRequest(); // the engine's close waits for the run's finalization
    listening.dispose();
  }
});

test('a run with no pull request coming toasts once its finalization ends, without the button', async () => {
  let runId = '';
  const listening = toastsFor((runId = await launched('plain')), 5000);
  try {
    await fx.next('run.delivered', (e) => e.run.id === runId && e.run.finalized === true);
    assert.deepEqual(
      listening.shown.map((t) => t.actions.map((a) => a.title)),
      [['Open Result']],
    );
  } finally {
    listening.dispose();
  }
});
