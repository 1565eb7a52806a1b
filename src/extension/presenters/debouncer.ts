import { systemClock, type Clock } from '../../core/util/clock.ts';
import type { Disposable } from '../../core/util/disposable.ts';

/**
 * Collects items and hands them over in one batch `delayMs` after the first one arrived (not the
 * last: a steady stream of events must still refresh the view at least that often).
 */
export class Debouncer<T> implements Disposable {
  private pending: T[] = [];
  private timer: { cancel(): void } | undefined;

  constructor(
    private readonly delayMs: number,
    private readonly flush: (batch: T[]) => void,
    private readonly clock: Clock = systemClock,
  ) {}

  push(item: T): void {
    this.pending.push(item);
    this.timer ??= this.clock.setTimeout(() => this.fire(), this.delayMs);
  }

  /** Hands over what is pending now (used before disposal and by tests). */
  fire(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (!this.pending.length) return;
    const batch = this.pending;
    this.pending = [];
    this.flush(batch);
  }

  dispose(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.pending = [];
  }
}
