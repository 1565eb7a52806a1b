import type { EngineEvent } from '../core/model/events.ts';
import type { RunRecord, TaskRecord } from '../core/model/records.ts';
import { isTerminal } from '../core/model/task-state.ts';
import { dim, runStateText, stateIcon, taskLine, waitLines } from './format.ts';
import { pauseText, requestLines } from './needs-input-text.ts';
import { formatDuration } from '../core/util/text-format.ts';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Live terminal progress of one run. On a TTY it redraws a block in place (a line
 * per task, a spinner on running ones, totals); elsewhere it prints a line per
 * transition, which reads well in CI logs.
 */
export class ProgressView {
  private readonly tasks = new Map<string, TaskRecord>();
  private drawnLines = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Why the owner's storage is paused (a full disk), while it is. */
  private paused: string | undefined;
  /** Waiting tasks: their question (references filled in) and the command that answers it. */
  private readonly waits = new Map<string, string>();
  /** Running agent tasks: turns and tokens so far. */
  private readonly spend = new Map<string, string>();

  constructor(
    private run: RunRecord,
    tasks: TaskRecord[],
    private readonly stream: NodeJS.WriteStream = process.stdout,
  ) {
    for (const task of tasks) this.tasks.set(task.key, task);
    if (this.live) this.timer = setInterval(() => this.draw(), 100);
    else this.stream.write(`${run.name} · run ${run.id} · ${tasks.length} tasks\n`);
  }

  private get live(): boolean {
    return Boolean(this.stream.isTTY);
  }

  /** Feed every engine event; those of other runs are ignored. */
  update(event: EngineEvent): void {
    if (event.type === 'engine.storage') {
      this.paused = event.state === 'paused' ? event.reason : undefined;
      if (!this.live) this.stream.write(`${storageLine(event.state, event.reason)}\n`);
    } else if ('task' in event && event.task.runId === this.run.id) {
      this.tasks.set(event.task.key, event.task);
      if (!this.live && event.type !== 'task.queued') this.stream.write(`${taskLine(event.task, Date.now())}\n`);
      // What a parked task asks and how to answer, once on a plain stream (live: under its line).
      if (!this.live && event.type === 'task.needs-input') this.stream.write(`${requestLines(event.task)}\n`);
    } else if ('run' in event && event.run.id === this.run.id) {
      this.run = event.run;
      if (!this.live && event.type === 'workflow.paused') this.stream.write(`  ${pauseText(event.run, Date.now())}\n`);
      if (!this.live && event.type === 'workflow.unpaused') this.stream.write(`  ${dim('resumed')}\n`);
    }
  }

  /** A task waits for a signal: show what it asks and how to answer (printed once on a plain stream). */
  ask(task: TaskRecord, question: string, signal: string): void {
    const lines = waitLines(question, signal);
    if (this.waits.get(task.key) === lines) return;
    this.waits.set(task.key, lines);
    if (!this.live) this.stream.write(`${this.waits.get(task.key)}\n`);
  }

  /** An agent task's spend so far (`turn 3 · 12.4k tokens`): on the task's line when live, a line per new turn otherwise. */
  spent(task: TaskRecord, text: string): void {
    if (this.spend.get(task.key) === text) return;
    this.spend.set(task.key, text);
    if (!this.live && text) this.stream.write(`  ${dim('·')} ${task.key.padEnd(18)} ${dim(text)}\n`);
  }

  /** Final frame; stops redrawing. */
  finish(): void {
    clearInterval(this.timer);
    if (this.live) this.draw();
    this.stream.write(`${this.summary()}\n`);
  }

  private summary(): string {
    const now = Date.now();
    const all = [...this.tasks.values()];
    const done = all.filter((t) => isTerminal(t.state)).length;
    return (
      `${this.run.name} ${runStateText(this.run)} · ${done}/${all.length} done · ` +
      `${formatDuration((this.run.finishedAt ?? now) - this.run.createdAt)} · run ${this.run.id}`
    );
  }

  private draw(): void {
    const now = Date.now();
    this.frame = (this.frame + 1) % SPINNER.length;
    const lines = [...this.tasks.values()]
      .sort((a, b) => a.order - b.order)
      .flatMap((t) => {
        const line = taskLine(t, now, t.state === 'running' ? SPINNER[this.frame]! : stateIcon(t.state), this.spend.get(t.key));
        const wait = t.state === 'waiting' ? this.waits.get(t.key) : t.state === 'needs-input' ? requestLines(t) : undefined;
        return wait ? [line, ...wait.split('\n')] : [line];
      });
    if (this.run.state === 'paused') lines.push(`  ${pauseText(this.run, now)}`);
    const running = [...this.tasks.values()].filter((t) => t.state === 'running').length;
    lines.push(dim(`  ${running} running · ${formatDuration(now - this.run.createdAt)}`));
    if (this.paused !== undefined) lines.push(storageLine('paused', this.paused));
    const up = this.drawnLines ? `\x1b[${this.drawnLines}F` : '';
    // Clear below too: the block shrinks when a storage pause ends.
    this.stream.write(`${up}${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n\x1b[J`);
    this.drawnLines = lines.length;
  }
}

/** The owner's storage paused on a full disk, or resumed. */
export function storageLine(state: 'paused' | 'resumed', reason: string): string {
  return state === 'paused' ? `⚠ disk full: new work is paused until space is freed; running tasks go on (${reason})` : `  storage: ${reason}`;
}
