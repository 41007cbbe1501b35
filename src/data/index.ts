/** Datasets: text sources, the token cache, packed training sequences, sampling, dataset names. */
export type { TokenEncoder } from './tokenizer_types';
export * from './tokenizer';
export {
  DEFAULT_TEXT_FIELD,
  SUPPORTED_EXTENSIONS,
  listSourceFiles,
  readDocuments,
  type DocumentSource,
  type ReadDocumentsOptions,
  type SourceFile,
  type SourceFormat,
} from './text_sources';
export {
  TOKEN_CACHE_FORMAT_VERSION,
  TokenCache,
  defaultCacheDir,
  prepareTokenCache,
  tokenCacheKey,
  tokenDTypeFor,
  type PrepareTokenCacheOptions,
  type PreparedTokenCache,
  type TokenCacheSidecar,
  type TokenDType,
  type TokenizeProgress,
} from './token_cache';
export {
  TokenDataset,
  type FromTokensOptions,
  type PrepareDatasetOptions,
  type Split,
  type TokenDatasetLayout,
} from './token_dataset';
export { BatchSampler, type BatchSamplerOptions, type SampledBatch, type SamplerState } from './batch_sampler';
export { Xoshiro128StarStar, seededPermutation } from './shuffle';
export {
  DEFAULT_DATASET,
  KNOWN_DATASET_NAMES,
  defaultCorpus,
  resolveDataset,
  type DatasetDescription,
} from './default_corpus';
