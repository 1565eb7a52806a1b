import type { QualityGateRecord, RunRecord, TaskRecord, TokenUsageRecord } from '../../src/core/model/records.ts';
import { DEFAULT_RETRY, type TaskAction } from '../../src/core/model/workflow.ts';
import type { TaskContext } from '../../src/core/runners/task-runner.ts';
import type { Logger } from '../../src/core/util/logger.ts';

type Usage = Omit<TokenUsageRecord, 'taskId' | 'runId' | 'createdAt'>;
type Gate = Omit<QualityGateRecord, 'taskId' | 'runId' | 'createdAt'>;

/** A logger that keeps what it was told, for assertions on warnings. */
export class MemoryLogger implements Logger {
  readonly lines: string[] = [];
  debug(m: string) {
    this.lines.push(`debug: ${m}`);
  }
  info(m: string) {
    this.lines.push(`info: ${m}`);
  }
  warn(m: string) {
    this.lines.push(`warn: ${m}`);
  }
  error(m: string) {
    this.lines.push(`error: ${m}`);
  }
}

/**
 * The durable side of one task kept in memory: log, checkpoint, usage and gates. It
 * outlives attempts, so `attempt()` hands out a fresh TaskContext per attempt (with
 * its own AbortController) like the engine does, and checkpoints carry over.
 */
export class InMemoryTaskStore {
  log = '';
  checkpoint: unknown;
  checkpointWrites = 0;
  readonly usage: Usage[] = [];
  readonly gates: Gate[] = [];
  readonly pids: number[] = [];
  /** What the runner reported through `noteSandboxed`, in order. */
  readonly sandboxed: boolean[] = [];
  readonly logger = new MemoryLogger();
  attempts = 0;
  /** Put on the task record of the next attempts (answers, a budget), as the engine would. */
  taskExtra: Partial<TaskRecord> = {};
  /** Put on the run record of the next attempts (allowed rules, options, a budget, a pause). */
  runExtra: Partial<RunRecord> = {};

  constructor(
    readonly cwd: string,
    readonly action: TaskAction,
  ) {}

  attempt(signal: AbortSignal = new AbortController().signal): TaskContext {
    const now = Date.now();
    this.attempts += 1;
    const run: RunRecord = { id: 'aaaaaaaaaaaa', name: 'test', inputs: {}, state: 'running', single: true, cwd: this.cwd, createdAt: now, ...this.runExtra };
    const task: TaskRecord = {
      id: 'aaaaaaaaaaaa.agent',
      runId: run.id,
      key: 'agent',
      name: 'agent',
      action: this.action,
      needs: [],
      state: 'running',
      priority: 0,
      order: 0,
      attempt: this.attempts,
      retry: DEFAULT_RETRY,
      continueOnError: false,
      updatedAt: now,
      ...this.taskExtra,
    };
    const store = this;
    return {
      task,
      run,
      action: this.action,
      cwd: this.cwd,
      signal,
      logger: this.logger,
      log(text) {
        store.log += text;
      },
      noteSandboxed(sandboxed) {
        store.sandboxed.push(sandboxed);
      },
      setPid(pid) {
        store.pids.push(pid);
      },
      async loadCheckpoint() {
        // A JSON round trip, as a store would do: the runner must not rely on object identity.
        return store.checkpoint === undefined ? undefined : JSON.parse(JSON.stringify(store.checkpoint));
      },
      async saveCheckpoint(state) {
        store.checkpoint = JSON.parse(JSON.stringify(state));
        store.checkpointWrites += 1;
      },
      async recordUsage(usage) {
        store.usage.push({ ...usage });
      },
      async spent() {
        const sum = (f: (u: Usage) => number) => store.usage.reduce((n, u) => n + f(u), 0);
        return {
          inputTokens: sum((u) => u.inputTokens),
          outputTokens: sum((u) => u.outputTokens),
          cacheWriteTokens: sum((u) => u.cacheWriteTokens),
          cacheReadTokens: sum((u) => u.cacheReadTokens),
          costUsd: sum((u) => u.costUsd),
        };
      },
      runPaused() {
        return run.state === 'paused';
      },
      async recordGate(gate) {
        store.gates.push({ ...gate });
      },
    };
  }
}
