export { Trainer } from './trainer';
export type { FitResult, PrepareEvent } from './trainer';
export type { EvaluationResult, StepEvent } from './loop';
export type { ModelSizeOptions, ScheduleName, TrainerOptions } from './trainer_options';
export { MODEL_PRESETS, presetConfig } from './model_presets';
export type { ModelPreset, ModelPresetOptions } from './model_presets';
export type { EvalMetricRecord, MetricRecord, TrainMetricRecord } from './run_folder';
export { trainingFlopsPerToken } from './flops';
export { fineTune, FineTuner } from './fine_tune';
export { copyTokenizerFiles } from './tokenizer_files';
export type { FineTuneOptions, FineTuneResult, FineTuneStartInfo, FineTuneStepRecord } from './fine_tune';
export {
  assistantSpans, conversationOf, IGNORE_INDEX, packSamples, padSamples, readConversations, SftDataset, tokenizeConversation,
} from './sft_data';
export type { SftBatch, SftDatasetOptions, SftDatasetStats, SftSample, SftTemplate } from './sft_data';
export { checkQkClip, diagnosticRecordFields } from './step_diagnostics';
export type { DiagnosticRecordFields, QkClipOptions } from './step_diagnostics';
export type { AttentionLayerLogits, MatrixTypeStats, MoeLayerBalance, StepDiagnostics } from '../native';
