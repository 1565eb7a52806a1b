/** Entry point for tests: `orchestr8 worker` in a process of its own (argv: the command's flags). */
import { workerCommand } from '../../src/cli/commands/worker.ts';

await workerCommand().parseAsync(process.argv);
