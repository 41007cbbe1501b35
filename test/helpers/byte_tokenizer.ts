/**
 * A tiny tokenizer following src/data/tokenizer_types.ts for the data tests: ids idOffset + 0..255 are the
 * UTF-8 bytes of the text, idOffset + 256 is EOS. A Python oracle reproduces it with `text.encode('utf-8')`.
 * `encodeCalls` counts encode() calls (cache reuse must make none). test/helpers/token-cache-crash-child.js
 * builds the same tokenizer (same fingerprint) in plain JS.
 */
import type { TokenEncoder } from '../../src/data/tokenizer_types';

export interface CountingTokenizer extends TokenEncoder {
  encodeCalls: number;
}

export function byteFingerprint(idOffset: number): string {
  return `test byte tokenizer v1, id offset ${idOffset}`;
}

export function byteTokenizer(idOffset = 0): CountingTokenizer {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  return {
    name: `test-bytes+${idOffset}`,
    vocabSize: idOffset + 257,
    eosTokenId: idOffset + 256,
    fingerprint: byteFingerprint(idOffset),
    encodeCalls: 0,
    encode(text: string): number[] {
      this.encodeCalls++;
      return Array.from(encoder.encode(text), (byte) => byte + idOffset);
    },
    decode(ids: ArrayLike<number>): string {
      const bytes = Array.from(ids, (id) => id - idOffset).filter((byte) => byte >= 0 && byte < 256);
      return decoder.decode(Uint8Array.from(bytes));
    },
  };
}
