/** The data part of the addon's interface (cpp/data/token_cache_api.cpp: a table of the core's, called through cpp/napi/api_calls.cpp). */
import type { NativeTensorHandle } from './tensor';

/** A memory-mapped token cache file (little-endian uint16 or uint32 ids). */
export interface NativeTokenCacheHandle {
  numTokens(): number;
  bytesPerToken(): number;
  /**
   * int64 [starts.length, seqLen], the ids from each start; built off the JS thread. `starts`: an array,
   * Int32Array, Uint32Array or Float64Array of integers (other typed arrays are refused).
   */
  gather(starts: ArrayLike<number>, seqLen: number): Promise<NativeTensorHandle>;
  gatherSync(starts: ArrayLike<number>, seqLen: number): NativeTensorHandle;
  /** A gather in flight keeps the mapping until it is done. */
  close(): void;
}

export interface NativeDataAddon {
  /** Maps the file (cheap: pages are read on first use); `bytesPerToken` is 2 or 4. */
  TokenCacheHandle: new (path: string, bytesPerToken: number) => NativeTokenCacheHandle;
}
