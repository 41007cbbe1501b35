/** Inference: chat templates and stop tokens. */
export { applyChatTemplate, chatTemplateFor, moonlightChatTemplate, MOONLIGHT_DEFAULT_SYSTEM_PROMPT } from './chat_template';
export type { ChatMessage, ChatTemplateSpec, ApplyChatTemplateOptions, FolderChatTemplate } from './chat_template';
export { stopTokenIdsFor } from './stop_tokens';
