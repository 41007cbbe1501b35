/** Evaluation: perplexity / bits per byte on a dataset, multiple-choice log-likelihood scoring. */
export { evaluatePerplexity, type PerplexityOptions, type PerplexityResult } from './perplexity';
export { scoreMultipleChoice, multipleChoiceRequests, type MultipleChoiceOptions, type MultipleChoiceResult, type MultipleChoiceItemResult } from './multiple_choice';
export { readMultipleChoiceTask, fewShotContext, type MultipleChoiceItem } from './multiple_choice_task';
export { continuationLogLikelihoods, encodeContinuation, type ContinuationRequest } from './continuation_logprobs';
export { accuracyStderr } from './stats';
