/** Inference: KV-cache generation (greedy / sampled, streaming) over CausalLM, chat templates and stop tokens. */
export { generateText, leftPad, nativeGenerateOptions } from './generate';
export type { GenerateOptions, GenerateResult, GeneratedToken, FinishReason } from './generate';
export { AsyncQueue } from './async_queue';
export { StopStringWatcher } from './stop_strings';
export { IncrementalText } from './incremental_text';
export { applyChatTemplate, chatTemplateFor, moonlightChatTemplate, MOONLIGHT_DEFAULT_SYSTEM_PROMPT } from './chat_template';
export type { ChatMessage, ChatTemplateSpec, ApplyChatTemplateOptions, FolderChatTemplate } from './chat_template';
export { stopTokenIdsFor } from './stop_tokens';
