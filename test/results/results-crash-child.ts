// Child process for the publish-crash test: an engine with the git/GitHub/webhook hooks
// that launches one workflow and prints its run id; the test SIGKILLs it while GitHub
// holds the pull request request.
import { Engine } from '../../src/core/engine/engine.ts';
import { setupResults } from '../../src/core/results/results-setup.ts';
import { parseWorkflow } from '../../src/core/workflow/parse-workflow.ts';

const [stateDir, cwd, githubUrl, token, receiverUrl, secret, yaml] = process.argv.slice(2) as [string, string, string, string, string, string, string];
const results = setupResults({
  stateDir,
  github: { token, baseUrl: githubUrl, repo: 'acme/widgets' },
  webhooks: { endpoints: [receiverUrl], secret, backoffMs: 20, maxDelayMs: 100 },
});
const engine = await Engine.open({ stateDir, cwd, hooks: [results.hooks] });
results.startWebhooks(engine);
const { runId } = await engine.launch({ workflow: parseWorkflow(yaml, 'crash.yaml') });
process.stdout.write(`${JSON.stringify({ runId })}\n`);
setInterval(() => {}, 1000); // stay alive until killed
