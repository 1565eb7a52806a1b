/** Something that holds a resource until disposed. Shaped like VS Code's Disposable so adapters can pass it through. */
export interface Disposable {
  dispose(): void;
}

/** Collects disposables and disposes them in reverse order. */
export class DisposableStore implements Disposable {
  private readonly items: Disposable[] = [];
  private disposed = false;

  add<T extends Disposable>(item: T): T {
    if (this.disposed) item.dispose();
    else this.items.push(item);
    return item;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    while (this.items.length) this.items.pop()!.dispose();
  }
}
