// A child owner for the crash-point and interruption tests: opens the engine on a state folder,
// launches the request given as JSON (if any), prints every event as one JSON line, and lives
// until it is killed (by the test, or by itself at ORCHESTR8_CRASH_AT).
import { Engine } from '../../src/core/engine/engine.ts';
import type { LaunchRequest } from '../../src/core/engine/engine-api.ts';

const [stateDir, cwd, request] = process.argv.slice(2) as [string, string, string | undefined];
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

const engine = await Engine.open({ stateDir, cwd, command: 'owner-child' });
engine.onEvent((e) => {
  if (e.type === 'task.progress') say({ type: e.type, id: e.taskId, text: e.text });
  else if ('task' in e) say({ type: e.type, id: e.task.id, state: e.task.state });
  else if ('run' in e) say({ type: e.type, id: e.run.id, state: e.run.state });
});
if (request) say({ launched: (await engine.launch(JSON.parse(request) as LaunchRequest)).runId });
setInterval(() => {}, 1 << 30);
