/**
 * Splits long texts before they reach tiktoken, exactly as Moonlight's TikTokenTokenizer.encode does: chunks of at most
 * 400,000 characters, each cut again wherever a run of whitespace or of non-whitespace grows past 25,000 characters.
 * tiktoken's regex pass is slow (quadratic backtracking) on huge runs, and the same cut points as Moonlight's wrapper
 * keep our ids identical to its ids on every text, long ones included.
 *
 * "Characters" are Python str characters (code points, not UTF-16 units) and "whitespace" is Python's str.isspace(),
 * so the cut points land where Python's would.
 */

export const MAX_CHUNK_CHARS = 400_000;
export const MAX_RUN_CHARS = 25_000;

/** Python's str.isspace() code points (differs from JS \s: adds U+001C..U+001F and U+0085, lacks U+FEFF). */
export function isPythonSpace(codePoint: number): boolean {
  if (codePoint <= 0x20) return (codePoint >= 0x09 && codePoint <= 0x0d) || (codePoint >= 0x1c && codePoint <= 0x20);
  if (codePoint < 0x85) return false;
  return (
    codePoint === 0x85 ||
    codePoint === 0xa0 ||
    codePoint === 0x1680 ||
    (codePoint >= 0x2000 && codePoint <= 0x200a) ||
    codePoint === 0x2028 ||
    codePoint === 0x2029 ||
    codePoint === 0x202f ||
    codePoint === 0x205f ||
    codePoint === 0x3000
  );
}

/** The pieces Moonlight's wrapper hands to tiktoken one by one (empty pieces left out: they encode to nothing). */
export function splitForTiktoken(text: string, maxChunkChars = MAX_CHUNK_CHARS, maxRunChars = MAX_RUN_CHARS): string[] {
  const pieces: string[] = [];
  let pieceStart = 0; // UTF-16 index where the current piece began
  let charsInChunk = 0; // code points since the current 400k chunk began
  let runLength = 0;
  let runIsSpace = false;
  const cut = (at: number): void => {
    if (at > pieceStart) pieces.push(text.slice(pieceStart, at));
    pieceStart = at;
  };
  for (let i = 0; i < text.length; ) {
    const codePoint = text.codePointAt(i)!;
    if (charsInChunk === maxChunkChars) {
      cut(i);
      charsInChunk = 0;
    }
    const isSpace = isPythonSpace(codePoint);
    if (charsInChunk === 0) {
      // A chunk's first character opens its first run.
      runIsSpace = isSpace;
      runLength = 1;
    } else if (isSpace !== runIsSpace) {
      runIsSpace = isSpace;
      runLength = 1;
    } else if (++runLength > maxRunChars) {
      cut(i);
      runLength = 1;
    }
    charsInChunk++;
    i += codePoint > 0xffff ? 2 : 1;
  }
  cut(text.length);
  return pieces;
}
