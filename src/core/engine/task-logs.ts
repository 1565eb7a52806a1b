import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../util/logger.ts';
import { errorMessage } from '../util/logger.ts';

/**
 * Task output lives in plain files beside the store (`logs/<run>/<task>.log`), not
 * in the journal: it can be large, and losing a log tail in a crash loses no state.
 */
export class TaskLogs {
  constructor(private readonly root: string) {}

  file(runId: string, key: string): string {
    return path.join(this.root, runId, `${key}.log`);
  }

  /** A writer for one attempt; the file (and its folder) appear with the first output, so silent tasks cost no I/O. */
  open(runId: string, key: string, header: string): TaskLogWriter {
    return new TaskLogWriter(this.file(runId, key), header);
  }

  async read(runId: string, key: string): Promise<string> {
    try {
      return await fs.promises.readFile(this.file(runId, key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw error;
    }
  }

  remove(runId: string): void {
    fs.rmSync(path.join(this.root, runId), { recursive: true, force: true });
  }

  /** Appends a line the engine writes itself (an interruption); a log line lost (a full disk) loses no state. */
  note(runId: string, key: string, text: string, logger: Logger): void {
    try {
      fs.mkdirSync(path.join(this.root, runId), { recursive: true });
      fs.appendFileSync(this.file(runId, key), text, { mode: 0o600 });
    } catch (error) {
      logger.warn(`could not write to the log of ${runId}.${key}: ${errorMessage(error)}`);
    }
  }
}

/** Appends to one task's log; writes are synchronous so the log never lags what listeners were told. */
export class TaskLogWriter {
  private fd: number | undefined;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly header: string,
  ) {}

  write(text: string): void {
    if (this.closed) return;
    if (this.fd === undefined) {
      fs.mkdirSync(path.dirname(this.path), { recursive: true });
      this.fd = fs.openSync(this.path, 'a', 0o600);
      fs.writeSync(this.fd, this.header);
    }
    fs.writeSync(this.fd, text);
  }

  close(): void {
    this.closed = true;
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
