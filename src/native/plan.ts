/** The memory-plan part of the addon's interface (cpp/napi/plan_bindings.cpp over cpp/train/memory_plan.h). */
import type { NativeModelConfig } from './model_config';

export interface NativePlanAddon {
  /** The plan of a job on a parsed config, as a JSON string (src/plan/ documents the options and the result). */
  planMemory(config: NativeModelConfig, options: Record<string, unknown>): string;
}
