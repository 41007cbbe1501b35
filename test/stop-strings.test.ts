/**
 * Streaming text and stop strings without decoding the whole sequence each step: the incremental text must
 * equal the full decode of every prefix (less a trailing incomplete character) for a byte-level tokenizer
 * that splits UTF-8 characters across tokens and for a SentencePiece-style one that drops the text's leading
 * space; stop strings spanning several tokens stop at the token that completes them.
 */
import type { TokenEncoder } from '../src/data/tokenizer_types';
import { IncrementalText } from '../src/infer/incremental_text';
import { StopStringWatcher } from '../src/infer/stop_strings';

function tokenizer(decode: (ids: ArrayLike<number>) => string): TokenEncoder {
  return { name: 'test', vocabSize: 256, eosTokenId: 0, fingerprint: 'test', encode: () => [], decode };
}

// One token per UTF-8 byte: 'é' takes two tokens, '→' three, '😀' four.
const bytes = tokenizer((ids) => Buffer.from(Array.from(ids)).toString('utf8'));
const TEXT = 'héllo wörld → 😀 stop€here';
const BYTE_IDS = [...Buffer.from(TEXT, 'utf8')];

// SentencePiece-like: '▁' is a space, and a decoded text never starts with one.
const PIECES = ['▁the', '▁cat', 's', '▁sat', '▁on', '▁a', '▁mat', '.'];
const pieces = tokenizer((ids) => Array.from(ids, (id) => PIECES[id]).join('').replace(/▁/g, ' ').replace(/^ /, ''));

describe('IncrementalText', () => {
  test('byte tokens: the text equals the full decode of each prefix, holding back incomplete characters', () => {
    const text = new IncrementalText(bytes);
    const added: string[] = [];
    BYTE_IDS.forEach((id, i) => {
      added.push(text.push(id));
      // A prefix cut inside a character decodes to U+FFFD at its end: that character is not shown yet.
      expect(text.text).toBe(bytes.decode(BYTE_IDS.slice(0, i + 1)).replace(/\uFFFD$/, ''));
    });
    expect(added.join('')).toBe(TEXT);
    // 'é' is bytes 1 and 2 of the text: its first byte adds nothing, its second the whole character.
    expect(added.slice(1, 3)).toEqual(['', 'é']);
    const emoji = Buffer.byteLength(TEXT.slice(0, TEXT.indexOf('😀')), 'utf8');
    expect(added.slice(emoji, emoji + 4)).toEqual(['', '', '', '😀']);
  });

  test('SentencePiece-style tokens: only the first token loses its leading space', () => {
    const ids = [0, 1, 2, 3, 4, 5, 6, 7, 1, 3];
    const text = new IncrementalText(pieces);
    ids.forEach((id, i) => {
      text.push(id);
      expect(text.text).toBe(pieces.decode(ids.slice(0, i + 1)));
    });
    expect(text.text).toBe('the cats sat on a mat. cat sat');
  });
});

describe('StopStringWatcher', () => {
  test('a stop string spanning several multi-byte tokens stops at the token that completes it', () => {
    for (const stop of ['😀 st', '→ 😀 stop€h', 'o w']) {
      const watcher = new StopStringWatcher(bytes, [stop]);
      const lastByte = Buffer.byteLength(TEXT.slice(0, TEXT.indexOf(stop) + stop.length), 'utf8') - 1;
      const stoppedAt = BYTE_IDS.findIndex((id) => {
        watcher.push(id);
        return watcher.stopped;
      });
      expect(stoppedAt).toBe(lastByte);
      expect(watcher.firstStopIndex(BYTE_IDS)).toBe(lastByte);
    }
  });

  test('merged tokens: a stop string starting inside one token and ending inside another', () => {
    const ids = [0, 1, 2, 3, 4, 5, 6, 7];
    const watcher = new StopStringWatcher(pieces, ['ats s', 'nothing']);
    // 'the cats sat': 'ats s' ends inside '▁sat', token 3.
    expect(ids.findIndex((id) => (watcher.push(id), watcher.stopped))).toBe(3);
  });

  test('no stop strings: text only, never stopped', () => {
    const watcher = new StopStringWatcher(bytes, []);
    expect(BYTE_IDS.map((id) => watcher.push(id)).join('')).toBe(TEXT);
    expect(watcher.stopped).toBe(false);
  });
});
