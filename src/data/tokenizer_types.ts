/**
 * What the data pipeline needs of a tokenizer (the token cache, packing and sampling code against this, the
 * tokenizers in src/data/tokenizer/ implement it). Kept as a bare type so both sides can import it without
 * importing each other.
 */
export interface TokenEncoder {
  /** 'byte', an encoding name ('gpt2', …) or the file it was loaded from: for messages and cache sidecars. */
  readonly name: string;
  /** Every id encode produces is < vocabSize (special tokens included); decides uint16 vs uint32 caches. */
  readonly vocabSize: number;
  /** The id placed after every document when documents are joined into one token stream. */
  readonly eosTokenId: number;
  /** Changes whenever the ids encode produces could change; token caches are keyed on it. */
  readonly fingerprint: string;
  /** Ids of `text`, without BOS/EOS. */
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
}
