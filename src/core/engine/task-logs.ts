import fs from 'node:fs';
import path from 'node:path';
import { isStorageFull, storageErrorText } from '../store/storage-full.ts';
import type { Logger } from '../util/logger.ts';
import { errorMessage } from '../util/logger.ts';
import { taskId } from '../util/ids.ts';

/**
 * Task output lives in plain files beside the store (`logs/<run>/<task>.log`), not
 * in the journal: it can be large, and losing a log tail in a crash loses no state.
 */
export class TaskLogs {
  constructor(
    private readonly root: string,
    /** Told when a task's output cannot be written (its writer drops it and notes that in the log). */
    private readonly onError: (file: string, error: unknown) => void = () => {},
  ) {}

  file(runId: string, key: string): string {
    return path.join(this.root, runId, `${key}.log`);
  }

  /** A writer for one attempt; the file (and its folder) appear with the first output, so silent tasks cost no I/O. */
  open(runId: string, key: string, header: string): TaskLogWriter {
    const file = this.file(runId, key);
    return new TaskLogWriter(file, header, (error) => this.onError(file, error));
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
      fs.mkdirSync(path.join(this.root, runId), { recursive: true, mode: 0o700 });
      fs.appendFileSync(this.file(runId, key), text, { mode: 0o600 });
    } catch (error) {
      logger.warn(`could not write to the log of ${taskId(runId, key)}: ${errorMessage(error)}`);
    }
  }
}

const NEWLINE = 0x0a;

/**
 * Appends to one task's log; writes are synchronous so the log never lags what listeners were told.
 * It never throws: it is called from a task's stdout handler, where an exception would take down
 * the owner. Output that cannot be written (a full disk) is dropped and counted, and the log
 * says so, in place, as soon as writing works again.
 */
export class TaskLogWriter {
  private fd: number | undefined;
  private closed = false;
  /** Bytes that must precede the next output: the header, then a note on dropped output. */
  private owed: Buffer;
  private atLineStart = true;
  private dropped = 0;
  private dropReason = '';
  private failing = false;

  constructor(
    private readonly path: string,
    header: string,
    /** Told of the first write that fails after one that worked (once per outage, not per chunk). */
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.owed = Buffer.from(header);
  }

  write(text: string): void {
    if (this.closed) return;
    const data = Buffer.from(text);
    let written = 0;
    try {
      this.writeOwed();
      while (written < data.length) written += fs.writeSync(this.fd!, data, written);
      this.failing = false;
    } catch (error) {
      this.drop(data.length - written, error);
    }
    if (written > 0) this.atLineStart = data[written - 1] === NEWLINE;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.dropped > 0 || (this.fd !== undefined && this.owed.length > 0)) {
      try {
        this.writeOwed();
      } catch {
        // still no room: the note is lost with the output it describes
      }
    }
    if (this.fd === undefined) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // nothing was left to write
    }
    this.fd = undefined;
  }

  /** Opens the file on first use and writes the header and any note on dropped output; throws when that fails. */
  private writeOwed(): void {
    if (this.fd === undefined) {
      fs.mkdirSync(path.dirname(this.path), { recursive: true, mode: 0o700 });
      this.fd = fs.openSync(this.path, 'a', 0o600);
    }
    this.writeAllOwed();
    if (this.dropped === 0) return;
    const text = `[orchestr8: ${this.dropped} bytes of output dropped: ${this.dropReason}]\n`;
    const note = Buffer.from(this.atLineStart ? text : `\n${text}`);
    // Nothing of the note written: the count goes on growing. Part of it: the rest is owed.
    this.owed = note.subarray(fs.writeSync(this.fd, note));
    this.dropped = 0;
    this.writeAllOwed();
  }

  /** What is owed always ends a line; a failure leaves the rest owed. */
  private writeAllOwed(): void {
    if (this.owed.length === 0) return;
    while (this.owed.length > 0) this.owed = this.owed.subarray(fs.writeSync(this.fd!, this.owed));
    this.atLineStart = true;
  }

  private drop(bytes: number, error: unknown): void {
    if (!this.failing) this.onError(error);
    this.failing = true;
    this.dropped += bytes;
    this.dropReason = isStorageFull(error) ? 'disk full' : storageErrorText(error);
  }
}
