/** Stop strings: a sequence ends at the first token after which its decoded text contains one of them. */
import type { TokenEncoder } from '../data/tokenizer_types';

export class StopStringWatcher {
  stopped = false;

  constructor(private readonly tokenizer: TokenEncoder, private readonly stopStrings: string[]) {}

  /** Marks the watcher stopped when `text` (the sequence's whole decoded text so far) holds a stop string. */
  check(text: string): boolean {
    if (!this.stopped && this.stopStrings.some((stop) => text.includes(stop))) this.stopped = true;
    return this.stopped;
  }

  /** The index of the token whose decoding first completes a stop string, or null. */
  firstStopIndex(tokens: number[]): number | null {
    // Decoding grows monotonically, so a binary search over prefixes finds the first one holding a stop string.
    const holds = (count: number) => this.stopStrings.some((stop) => this.tokenizer.decode(tokens.slice(0, count)).includes(stop));
    if (!holds(tokens.length)) return null;
    let low = 1, high = tokens.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (holds(middle)) high = middle;
      else low = middle + 1;
    }
    return low - 1;
  }
}
