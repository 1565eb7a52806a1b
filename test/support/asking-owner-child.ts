// A child owner for the needs-input crash tests: opens the engine on a state folder with an agent
// stand-in that parks on a permission request until it is answered, then either launches one
// agent task (`ask`) or launches a wait-then-shell workflow and pauses its run (`pause`), prints
// every event as one JSON line, and lives until it is SIGKILLed.
import { Engine } from '../../src/core/engine/engine.ts';
import { AskingRunner } from './asking-runner.ts';
import { DEFAULT_RETRY } from '../../src/core/model/workflow.ts';

const [stateDir, cwd, mode] = process.argv.slice(2) as [string, string, 'ask' | 'pause'];
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

const engine = await Engine.open({ stateDir, cwd, command: 'asking-owner-child', runners: [new AskingRunner()] });
engine.onEvent((e) => {
  if ('task' in e) say({ type: e.type, id: e.task.id, state: e.task.state });
  else if ('run' in e) say({ type: e.type, id: e.run.id, state: e.run.state });
});
if (mode === 'ask') {
  say({ launched: (await engine.launch({ task: { action: { kind: 'agent', agent: 'any', prompt: 'deploy' } } })).runId });
} else {
  const task = (id: string, needs: string[], action: { kind: 'wait' } | { kind: 'run'; run: string }) => ({
    id,
    needs,
    action,
    retry: DEFAULT_RETRY,
    continueOnError: false,
    priority: 0,
  });
  const { runId } = await engine.launch({
    workflow: { name: 'held', inputs: [], tasks: [task('gate', [], { kind: 'wait' }), task('after', ['gate'], { kind: 'run', run: 'echo after' })] },
  });
  say({ launched: runId });
  await engine.pause(runId, 'paused before the crash');
  await engine.signal(`${runId}.gate`);
  say({ signalled: runId });
}
setInterval(() => {}, 1 << 30);
