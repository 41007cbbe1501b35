/**
 * A sequence's decoded text, grown token by token without decoding the whole sequence each step (that is
 * O(n²) over a generation). Each step decodes a short window: the tokens not yet turned into text plus a
 * few before them as context, and keeps what the new tokens add to the context's text. The context matters
 * because decoders are not additive token by token: SentencePiece drops the leading space of a text's first
 * token, and a byte-level token may hold half of a UTF-8 character, which decodes as U+FFFD until the rest
 * arrives (such tokens are held back until the character completes).
 */
import type { TokenEncoder } from '../data/tokenizer_types';

/** Tokens decoded before the new ones so that their text is decoded as it would be mid-sequence. */
const CONTEXT_TOKENS = 5;
const INCOMPLETE_CHARACTER = '\uFFFD';

export class IncrementalText {
  /** The text of every token pushed so far, except a trailing incomplete character. */
  text = '';
  private readonly tokens: number[] = [];
  /** tokens[contextStart, textEnd) is the context; tokens[textEnd, …) are not in `text` yet. */
  private contextStart = 0;
  private textEnd = 0;

  constructor(private readonly tokenizer: TokenEncoder) {}

  /** Adds the next token and returns the text it completes ('' while a character is incomplete). */
  push(token: number): string {
    this.tokens.push(token);
    const context = this.tokenizer.decode(this.tokens.slice(this.contextStart, this.textEnd));
    const window = this.tokenizer.decode(this.tokens.slice(this.contextStart));
    if (window.length <= context.length || window.endsWith(INCOMPLETE_CHARACTER)) return '';
    const added = window.slice(context.length);
    this.text += added;
    this.textEnd = this.tokens.length;
    this.contextStart = Math.max(0, this.textEnd - CONTEXT_TOKENS);
    return added;
  }
}
