/** The weight-analysis part of the addon's interface (cpp/analysis/analysis_api.cpp: a table of the core's, called through cpp/napi/api_calls.cpp). */
import type { NativeTensorHandle } from './tensor';

export interface NativeAnalysisAddon {
  /** One entropy per matrix of `weights` ([A, B] or a stack [..., A, B]), computed off the JS thread. */
  svdEntropy(weights: NativeTensorHandle): Promise<number[]>;
  /** The matrix type of a parameter name, as the step diagnostics group them. */
  matrixType(name: string): string;
}
