// `npm run bench:reload-path`: the extension's share of a Reload Window with 300 runs, in plain Node
// (CPU time, which a loaded machine moves less than wall time): from loading the engine runtime to
// the tree's first page of runs, as a window does it, in a fresh process each time. Alternates:
// - `before`: the runtime required as is, then the first page as the tree used to draw it (one
//   `list`, then one `usage` query per run row);
// - `after`: the runtime from V8's code cache (src/extension/code-cache.ts), then one `list`.
// Both open the store as owner with the local API, as a window does; VS Code's GitHub session,
// which the old open waited for (0.1-1.1 s in the E2E logs), is not part of either.
// BENCH_RELOADS (default 7) of each. Writes artifacts/bench/reload-path.json.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { writeBenchArtifact } from './artifacts.ts';
import { openEngine, wideWorkflow } from './history.ts';
import { loadWarning } from './targets.ts';

const RELOADS = Number(process.env.BENCH_RELOADS ?? 7);
const RUNS = 300;
const DIST = fileURLToPath(new URL('../dist/', import.meta.url));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// One window's path, in a child process of its own (plain Node, the shipped bundles).
const CHILD = `
const path = require('path');
const [dist, stateDir, mode, cacheDir, codeCache] = process.argv.slice(2);
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
(async () => {
  const t0 = performance.now(); const c0 = cpu();
  const file = path.join(dist, 'engine-runtime.cjs');
  const cached = mode === 'after' ? require(codeCache).requireWithCodeCache(file, cacheDir) : undefined;
  const rt = cached ? cached.exports : require(file);
  const loadMs = performance.now() - t0; const loadCpu = cpu() - c0;
  const logger = { debug() {}, info() {}, warn() {}, error(m, e) { console.error(m, e); } };
  const opened = await rt.openWorkspaceEngine({ stateDir, cwd: path.dirname(stateDir), concurrency: 2, defaultModel: 'x', apiKey: async () => undefined, results: async () => ({ webhookUrls: [] }), logger });
  const page = await opened.engine.list({ limit: 50 });
  if (mode === 'before') await Promise.all(page.runs.map((r) => opened.engine.usage(r.id)));
  const pageMs = performance.now() - t0; const pageCpu = cpu() - c0;
  if (page.total !== ${RUNS}) throw new Error('listed ' + page.total);
  cached?.saveCache();
  await opened.close();
  process.stdout.write(JSON.stringify({ loadMs, loadCpu, pageMs, pageCpu, fromCache: cached?.cacheUsed ?? false }));
})();
`;

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'orchestr8-reload-path-'));
  try {
    const stateDir = path.join(work, 'ws', '.orchestr8', 'state');
    const engine = await openEngine({ stateDir, cwd: path.join(work, 'ws'), concurrency: 4 });
    let finished = 0;
    const done = new Promise<void>((resolve) => engine.onEvent((e) => e.type === 'workflow.completed' && ++finished === RUNS && resolve()));
    for (let i = 0; i < RUNS; i++) await engine.launch({ workflow: wideWorkflow(i, 2) });
    await done;
    await engine.close();

    const child = path.join(work, 'window.cjs');
    fs.writeFileSync(child, CHILD);
    const codeCache = path.join(work, 'code-cache.cjs');
    await esbuild.build({
      entryPoints: [fileURLToPath(new URL('../src/extension/code-cache.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: codeCache,
      logLevel: 'error',
    });
    const cacheDir = path.join(work, 'cache');
    const window = (mode: 'before' | 'after') =>
      JSON.parse(execFileSync(process.execPath, [child, DIST, stateDir, mode, cacheDir, codeCache], { encoding: 'utf8' })) as {
        loadMs: number;
        loadCpu: number;
        pageMs: number;
        pageCpu: number;
        fromCache: boolean;
      };
    window('after'); // writes the code cache, as a window's first load does
    const samples = { before: [] as ReturnType<typeof window>[], after: [] as ReturnType<typeof window>[] };
    for (let i = 0; i < RELOADS; i++) {
      samples.before.push(window('before'));
      samples.after.push(window('after'));
    }
    if (samples.after.some((s) => !s.fromCache)) throw new Error('an after sample did not load from the code cache');
    const sum = (xs: ReturnType<typeof window>[]) => ({
      runtimeLoadMs: median(xs.map((x) => x.loadMs)),
      runtimeLoadCpuMs: median(xs.map((x) => x.loadCpu)),
      firstPageMs: median(xs.map((x) => x.pageMs)),
      firstPageCpuMs: median(xs.map((x) => x.pageCpu)),
    });
    const figures = { runs: RUNS, reloads: RELOADS, before: sum(samples.before), after: sum(samples.after) };
    const ratios = {
      firstPageCpuAfterVsBefore: figures.after.firstPageCpuMs / figures.before.firstPageCpuMs,
      firstPageAfterVsBefore: figures.after.firstPageMs / figures.before.firstPageMs,
    };
    const file = writeBenchArtifact('reload-path', { ...figures, ratios });
    const row = (name: string, s: ReturnType<typeof sum>) =>
      `${name.padEnd(7)} runtime load ${s.runtimeLoadMs.toFixed(0)} ms (CPU ${s.runtimeLoadCpuMs.toFixed(0)} ms), first page ${s.firstPageMs.toFixed(0)} ms (CPU ${s.firstPageCpuMs.toFixed(0)} ms, every thread)`;
    console.log(`reload path, ${RUNS} runs, medians of ${RELOADS} fresh processes each, alternated:`);
    console.log(row('before', figures.before));
    console.log(row('after', figures.after));
    console.log(`after / before: first page CPU ${ratios.firstPageCpuAfterVsBefore.toFixed(2)}x, wall ${ratios.firstPageAfterVsBefore.toFixed(2)}x`);
    const warning = loadWarning();
    if (warning) console.log(warning);
    console.log(`figures: ${file}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

await main();
