/** A push-driven async iterable: producers push/close/fail, one consumer iterates with for-await. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #closed = false;
  #error: unknown = undefined;
  #failed = false;
  #wake: (() => void) | null = null;

  push(item: T): void {
    this.#items.push(item);
    this.#notify();
  }

  close(): void {
    this.#closed = true;
    this.#notify();
  }

  fail(error: unknown): void {
    this.#failed = true;
    this.#error = error;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.#items.length > 0) {
        yield this.#items.shift() as T;
        continue;
      }
      if (this.#failed) throw this.#error;
      if (this.#closed) return;
      await new Promise<void>((resolve) => { this.#wake = resolve; });
    }
  }
}
