/** Stop strings: a sequence ends at the first token after which its decoded text contains one of them. */
import type { TokenEncoder } from '../data/tokenizer_types';
import { IncrementalText } from './incremental_text';

/** One sequence's text as its tokens arrive, and whether it holds a stop string yet. */
export class StopStringWatcher {
  stopped = false;
  private readonly text: IncrementalText;
  private readonly longestStop: number;

  constructor(private readonly tokenizer: TokenEncoder, private readonly stopStrings: string[]) {
    this.text = new IncrementalText(tokenizer);
    this.longestStop = Math.max(0, ...stopStrings.map((stop) => stop.length));
  }

  /**
   * Adds the sequence's next token and returns the text it completes ('' while a character is incomplete);
   * marks the watcher stopped once the text holds a stop string. Only the end of the text can hold a new
   * match: the added text plus the longest stop string's length before it.
   */
  push(token: number): string {
    const added = this.text.push(token);
    if (!this.stopped && added !== '' && this.longestStop > 0) {
      const tail = this.text.text.slice(-(added.length + this.longestStop - 1));
      this.stopped = this.stopStrings.some((stop) => tail.includes(stop));
    }
    return added;
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
