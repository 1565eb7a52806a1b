// Child process for the merge crash tests: an engine with the git hooks that launches one
// workflow and prints its run id; ORCHESTR8_CRASH_AT makes it SIGKILL itself mid-merge.
import { Engine } from '../../src/core/engine/engine.ts';
import { setupResults } from '../../src/core/results/results-setup.ts';
import { parseWorkflow } from '../../src/core/workflow/parse-workflow.ts';

const [stateDir, cwd, yaml] = process.argv.slice(2) as [string, string, string];
const results = setupResults({ stateDir });
const engine = await Engine.open({ stateDir, cwd, hooks: [results.hooks], concurrency: 4 });
results.startWebhooks(engine);
const { runId } = await engine.launch({ workflow: parseWorkflow(yaml, 'crash.yaml') });
process.stdout.write(`${JSON.stringify({ runId })}\n`);
setInterval(() => {}, 1000); // stay alive until killed (or until the test kills it)
