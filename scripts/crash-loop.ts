// The crash harness in a loop: `npm run crash:loop [-- --kills 200 --runs 10 --seed N]`.
// Each run kills an engine child --kills times on a fresh state folder, at random moments and at
// the crash points (test/support/crash-harness.ts), checking every acknowledged transition after
// each kill and that a new owner finishes every run. Stops at the first failure, with its story
// and a copy of the state folder; exits non-zero then.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CRASH_MOMENTS, CrashHarnessFailure, runCrashHarness } from '../test/support/crash-harness.ts';
import type { CrashFigures, CrashMoment, KillReport } from '../test/support/crash-harness.ts';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '200' },
    runs: { type: 'string', default: '10' },
    /** Seed of the first run's schedule (the next runs use seed+1, …), to replay one. */
    seed: { type: 'string' },
  },
});
const kills = Number(values.kills);
const runs = Number(values.runs);
const firstSeed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);

const total = {
  kills: 0,
  acknowledged: 0,
  inSnapshot: 0,
  inSegmentRemoval: 0,
  interruptions: 0,
  mostInterruptions: 0,
  failedByBound: 0,
  moments: Object.fromEntries(CRASH_MOMENTS.map((m) => [m, { aimed: 0, landed: 0 }])) as Record<CrashMoment, { aimed: number; landed: number }>,
  ms: 0,
};
const add = (figures: CrashFigures) => {
  total.kills += figures.kills;
  total.acknowledged += figures.acknowledged;
  total.inSnapshot += figures.inSnapshot;
  total.inSegmentRemoval += figures.inSegmentRemoval;
  total.interruptions += figures.interruptions;
  total.mostInterruptions = Math.max(total.mostInterruptions, figures.mostInterruptions);
  total.failedByBound += figures.failedByBound;
  total.ms += figures.ms;
  for (const m of CRASH_MOMENTS) {
    total.moments[m].aimed += figures.moments[m].aimed;
    total.moments[m].landed += figures.moments[m].landed;
  }
};
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const momentFigures = (moments: CrashFigures['moments']) => CRASH_MOMENTS.map((m) => `${m} ${moments[m].landed}/${moments[m].aimed}`).join(', ');

console.log(`crash loop: ${runs} runs of ${kills} kills, first seed ${firstSeed} (kills landed/aimed per moment below)`);
/** The run that failed; the loop stops there. */
let failedAt = 0;
for (let run = 1; run <= runs && !failedAt; run++) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'o8-crash-loop-'));
  const stateDir = path.join(root, 'state');
  const cwd = path.join(root, 'cwd');
  fs.mkdirSync(cwd, { recursive: true });
  const seed = firstSeed + run - 1;
  const startedAt = Date.now();
  const recent: KillReport[] = [];
  try {
    const figures = await runCrashHarness({
      kills,
      stateDir,
      cwd,
      seed,
      onKill: (k) => {
        recent.push(k);
        if ((k.index + 1) % 25 !== 0 && k.index + 1 !== kills) return;
        const mean = (f: (k: KillReport) => number) => Math.round(recent.reduce((n, r) => n + f(r), 0) / recent.length);
        process.stdout.write(
          `  run ${run}: ${k.index + 1}/${kills} kills, ${seconds(Date.now() - startedAt)}; last ${recent.length}: a child opened the state in ${mean((r) => r.startMs)} ms, ` +
            `acknowledged ${mean((r) => r.acknowledged)} transitions, the check took ${mean((r) => r.checkMs)} ms, the kill cycle ${mean((r) => r.ms)} ms\n`,
        );
        recent.length = 0;
      },
    });
    add(figures);
    console.log(
      `run ${run}/${runs} green (seed ${seed}): ${figures.kills} kills, ${figures.acknowledged} acknowledged transitions checked, ` +
        `${figures.inSnapshot} in a snapshot, ${figures.inSegmentRemoval} in segment removal; ${momentFigures(figures.moments)}; ` +
        `${figures.interruptions} task interruptions resumed (at most ${figures.mostInterruptions} for one task), ${figures.failedByBound} tasks failed by the stall bound; ${figures.runs} runs (${figures.tasks} tasks) completed after recovery in ${seconds(figures.recoveryMs)}; ${seconds(figures.ms)}`,
    );
  } catch (error) {
    failedAt = run;
    if (error instanceof CrashHarnessFailure) {
      add(error.figures);
      console.log(`run ${run}/${runs} FAILED (seed ${seed}) after ${error.figures.kills} kills (${momentFigures(error.figures.moments)}):\n${error.message}`);
    } else {
      console.log(`run ${run}/${runs} FAILED (seed ${seed}): the harness itself broke:\n${(error as Error).stack ?? String(error)}`);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

console.log(
  `\nsummary: ${failedAt ? `FAILED at run ${failedAt} of ${runs}` : `${runs} runs green in a row`}; ` +
    `${total.kills} kills, ${total.acknowledged} acknowledged transitions checked, ${total.inSnapshot} kills in a snapshot, ` +
    `${total.inSegmentRemoval} in segment removal; ${momentFigures(total.moments)}; ${total.interruptions} task interruptions resumed (at most ${total.mostInterruptions} for one task), ${total.failedByBound} tasks failed by the stall bound; ${seconds(total.ms)} in all`,
);
process.exit(failedAt ? 1 : 0);
