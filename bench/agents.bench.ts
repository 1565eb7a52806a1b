// `npm run bench:agents`: examples/add-feature.yaml through the real Engine, AgentRunner and
// @anthropic-ai/sdk against the local Messages server, with every model turn scripted to take
// LATENCY_MS (default 2000: a real tool-using turn takes seconds, so this is on the fast side;
// the per-turn overhead printed below is the latency-independent figure). The DAG's ideal time is its critical path (analysis → slowest of backend/frontend →
// slowest gate → documentation, in model turns × latency); the run must finish within 1.05× of it.
// The sequential sum (every turn one after another) is printed beside it, and so is the SDK floor:
// the same layers of turns made by the bare SDK against the same server, no engine, measured in the
// same rounds, so the engine's own share (wall / floor) is told from the client library's and the machine's.
// Writes artifacts/bench/agents.json.
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AgentRunner } from '../src/core/agents/agent-runner.ts';
import { Anthropic } from '@anthropic-ai/sdk';
import { DEFAULT_AGENT_MODEL } from '../src/core/agents/agent-model.ts';
import { Engine } from '../src/core/engine/engine.ts';
import { loadWorkflowFile } from '../src/core/workflow/parse-workflow.ts';
import { addFeatureScripts, addFeatureTurns } from '../src/devtools/fake-anthropic/add-feature-script.ts';
import { FakeAnthropicServer } from '../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { scriptedAgents } from '../src/devtools/fake-anthropic/scripted-agents.ts';
import { writeBenchArtifact } from './artifacts.ts';

const LATENCY_MS = Number(process.env.LATENCY_MS ?? 2000);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const repo = resolve(import.meta.dirname, '..');
const workflow = await loadWorkflowFile(join(repo, 'examples/add-feature.yaml'));

// The shell step is left out: its time is the machine's, not the model's, and has no place in a scripted critical path.
const turns = addFeatureTurns({ shell: false });
const layers = [['analysis'], ['backend', 'frontend'], ['code-review', 'tests', 'security', 'performance', 'accessibility'], ['documentation']];
const criticalMs = layers.reduce((sum, layer) => sum + Math.max(...layer.map((k) => turns[k]!)) * LATENCY_MS, 0);
const sequentialMs = Object.values(turns).reduce((a, b) => a + b, 0) * LATENCY_MS;

const server = await FakeAnthropicServer.start({ responder: scriptedAgents(addFeatureScripts({ latencyMs: LATENCY_MS, shell: false })) });
const warmServer = await FakeAnthropicServer.start({ responder: scriptedAgents(addFeatureScripts({ latencyMs: 20, shell: false })) });

async function once(server: FakeAnthropicServer): Promise<{ ms: number; requests: number }> {
  const project = realpathSync(mkdtempSync(join(tmpdir(), 'o8-bench-agents-')));
  mkdirSync(join(project, '.orchestr8'), { recursive: true });
  cpSync(join(repo, 'examples/agents'), join(project, '.orchestr8/agents'), { recursive: true });
  writeFileSync(join(project, 'package.json'), '{"name":"bench-app","version":"1.0.0"}\n');
  const before = server.requests.length;
  const engine = await Engine.open({
    stateDir: join(project, '.orchestr8/state'),
    cwd: project,
    concurrency: 16,
    runners: [new AgentRunner({ apiKey: server.apiKey, baseURL: server.url, env: {} })],
  });
  try {
    const started = performance.now();
    const done = new Promise<string>((ok) =>
      engine.onEvent((e) => {
        if (e.type === 'workflow.completed' || e.type === 'workflow.failed' || e.type === 'workflow.cancelled') ok(e.type);
      }),
    );
    await engine.launch({ workflow, inputs: { feature: 'Greet the user by name' }, cwd: project });
    const outcome = await done;
    const ms = performance.now() - started;
    if (outcome !== 'workflow.completed') throw new Error(`run ended ${outcome}`);
    return { ms, requests: server.requests.length - before };
  } finally {
    await engine.close();
    rmSync(project, { recursive: true, force: true });
  }
}

/** The critical path's turns with the bare SDK: each layer's agents side by side, each its turns one after another. */
async function sdkFloor(server: FakeAnthropicServer): Promise<number> {
  const client = new Anthropic({ apiKey: server.apiKey, baseURL: server.url, logLevel: 'off' });
  const started = performance.now();
  for (const layer of layers) {
    await Promise.all(
      layer.map(async (key) => {
        const messages: Anthropic.MessageParam[] = [{ role: 'user', content: `you are ${key}` }];
        for (let turn = 0; turn < turns[key]!; turn++) {
          const reply = await client.messages.stream({ model: DEFAULT_AGENT_MODEL, max_tokens: 1000, messages }).finalMessage();
          messages.push({ role: 'assistant', content: reply.content }, { role: 'user', content: 'go on' });
        }
      }),
    );
  }
  return performance.now() - started;
}
const floorServer = await FakeAnthropicServer.start({
  responder: () => ({ kind: 'message', delayMs: LATENCY_MS, content: [{ type: 'text', text: 'done' }] }),
});

await once(warmServer); // warm-up (short turns): module loading and JIT, not the engine's overhead
await warmServer.close();
const results: number[] = [];
const floors: number[] = [];
let requests = 0;
for (let i = 0; i < ROUNDS; i++) {
  floors.push(await sdkFloor(floorServer));
  const r = await once(server);
  results.push(r.ms);
  requests = r.requests;
}
await server.close();
await floorServer.close();

const medianOf = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const median = medianOf(results);
const floor = medianOf(floors);
const ratio = median / criticalMs;
console.log(`add-feature (9 agent tasks, ${requests} model turns, ${LATENCY_MS} ms per turn), ${ROUNDS} rounds after a warm-up`);
console.log(`  critical path   ${criticalMs} ms`);
console.log(`  sequential sum  ${sequentialMs} ms`);
console.log(`  wall (median)   ${median.toFixed(0)} ms  = ${ratio.toFixed(3)} × critical path  (rounds: ${results.map((r) => r.toFixed(0)).join(', ')} ms)`);
console.log(
  `  SDK floor       ${floor.toFixed(0)} ms  = ${(floor / criticalMs).toFixed(3)} × critical path: the same turns by the bare SDK, no engine ` +
    `(rounds: ${floors.map((r) => r.toFixed(0)).join(', ')} ms); wall = ${(median / floor).toFixed(3)} × floor`,
);
const criticalTurns = criticalMs / LATENCY_MS;
console.log(
  `  overhead        ${((median - criticalMs) / criticalTurns).toFixed(1)} ms per model turn on the critical path (${criticalTurns} turns: SDK, ` +
    `stream parsing, tools, durable usage and checkpoint, task hand-over), ${((median - floor) / criticalTurns).toFixed(1)} ms of it above the SDK floor`,
);
writeBenchArtifact('agents', {
  settings: { latencyMs: LATENCY_MS, rounds: ROUNDS, modelTurns: requests },
  criticalPathMs: criticalMs,
  sequentialSumMs: sequentialMs,
  wallMs: { median, rounds: results },
  sdkFloorMs: { median: floor, rounds: floors },
  wallVsCriticalPath: ratio,
  sdkFloorVsCriticalPath: floor / criticalMs,
  wallVsSdkFloor: median / floor,
  overheadMsPerCriticalPathTurn: (median - criticalMs) / criticalTurns,
  engineOverheadMsPerCriticalPathTurn: (median - floor) / criticalTurns,
  pass: ratio <= 1.05,
});
if (ratio > 1.05) {
  console.error(`FAIL: ${ratio.toFixed(3)} × critical path exceeds 1.05`);
  process.exitCode = 1;
} else console.log('  PASS: ≤ 1.05 × critical path');
