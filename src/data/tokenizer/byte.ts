/**
 * The byte-level tokenizer for tiny runs: ids 0..255 are the UTF-8 bytes of the text, 256 is EOS. No vocabulary file,
 * so every run can use it, and a model only needs a 257-row embedding.
 */
import { ArgumentError } from '../../errors';
import { fingerprintOf, type Tokenizer } from './types';

const BYTE_EOS = 256;
// Version tag: if the byte mapping ever changes, token caches built with the old one must not be reused.
const BYTE_FINGERPRINT = fingerprintOf('moonlight-torch byte tokenizer v1', 'utf-8 bytes 0..255, eos 256');

export function byteTokenizer(): Tokenizer {
  const encoder = new TextEncoder();
  // fatal: false → invalid UTF-8 (a byte sequence cut mid-character) decodes to U+FFFD instead of throwing.
  const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  return {
    kind: 'byte',
    name: 'byte',
    vocabSize: BYTE_EOS + 1,
    eosTokenId: BYTE_EOS,
    fingerprint: BYTE_FINGERPRINT,
    encode(text: string): number[] {
      return Array.from(encoder.encode(text));
    },
    decode(ids: ArrayLike<number>): string {
      const bytes = new Uint8Array(ids.length);
      let length = 0;
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        if (id === BYTE_EOS) continue; // EOS separates documents; it has no text
        if (!Number.isInteger(id) || id < 0 || id > BYTE_EOS) {
          throw new ArgumentError(`byte tokenizer decode: ids[${i}] = ${id} is not a token id (expected an integer 0..256)`);
        }
        bytes[length++] = id;
      }
      return decoder.decode(bytes.subarray(0, length));
    },
    dispose(): void {},
  };
}
