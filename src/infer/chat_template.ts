/**
 * Chat templates: turning a conversation into the one string a chat model was trained on.
 *
 * - Moonlight (tiktoken.model folders): its Instruct template, written out here (from Moonlight-16B-A3B-Instruct's tokenizer_config.json) because its
 *   tokenizer_config.json needs trust_remote_code and the format is short and fixed.
 * - Hugging Face folders whose tokenizer_config.json carries a Jinja `chat_template`: rendered by @huggingface/jinja
 *   with the variables transformers' apply_chat_template passes (messages, add_generation_prompt, the special-token
 *   strings), so the text equals Python's.
 */
import { Template } from '@huggingface/jinja';
import * as fs from 'fs';
import * as path from 'path';
import { ArgumentError, ConfigError } from '../errors';
import { readJsonObject, tokenContent } from '../data/tokenizer/files';

export interface ChatMessage {
  role: string;
  content: string;
}

/** 'moonlight' for Moonlight's built-in format, anything else is Jinja template source. */
export type ChatTemplateSpec = 'moonlight' | string;

export interface ApplyChatTemplateOptions {
  /** End with the opening of an assistant turn, so that generation continues as the assistant. Default false. */
  addGenerationPrompt?: boolean;
  /** Default 'moonlight'. */
  template?: ChatTemplateSpec;
  /** Extra Jinja variables (bos_token, eos_token, …); chatTemplateFor fills them from tokenizer_config.json. */
  variables?: Record<string, unknown>;
}

export const MOONLIGHT_DEFAULT_SYSTEM_PROMPT = 'You are a helpful assistant';

/** Role → Moonlight role token; other roles get no token, only their name (as the Jinja original does). */
const MOONLIGHT_ROLE_TOKENS: Record<string, string> = {
  system: '<|im_system|>',
  user: '<|im_user|>',
  assistant: '<|im_assistant|>',
};

/**
 * Moonlight-Instruct's format: a default system turn when the first message is not `system`; then per message its
 * role token, role name, <|im_middle|>, content, <|im_end|>; with addGenerationPrompt, `<|im_assistant|>assistant<|im_middle|>`.
 * No newlines and no [BOS]: the template adds none.
 */
export function moonlightChatTemplate(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
  let text = '';
  messages.forEach((message, index) => {
    // The Jinja original emits the default inside its loop (loop.first): an empty conversation gets none.
    if (index === 0 && message.role !== 'system') {
      text += `<|im_system|>system<|im_middle|>${MOONLIGHT_DEFAULT_SYSTEM_PROMPT}<|im_end|>`;
    }
    text += `${MOONLIGHT_ROLE_TOKENS[message.role] ?? ''}${message.role}<|im_middle|>${message.content}<|im_end|>`;
  });
  if (addGenerationPrompt) text += '<|im_assistant|>assistant<|im_middle|>';
  return text;
}

/** The conversation as one string, in Moonlight's format or by a Jinja chat template. */
export function applyChatTemplate(messages: readonly ChatMessage[], options: ApplyChatTemplateOptions = {}): string {
  checkMessages(messages);
  const addGenerationPrompt = options.addGenerationPrompt ?? false;
  const template = options.template ?? 'moonlight';
  if (typeof template !== 'string' || template === '') throw new ArgumentError(`applyChatTemplate: template must be 'moonlight' or Jinja source, got ${JSON.stringify(template)}`);
  if (template === 'moonlight') return moonlightChatTemplate(messages, addGenerationPrompt);
  let compiled: Template;
  try {
    compiled = new Template(template);
  } catch (error) {
    throw new ConfigError(`chat template does not parse as Jinja: ${(error as Error).message}`, { cause: error });
  }
  try {
    return compiled.render({
      ...options.variables,
      messages: messages.map((message) => ({ ...message })),
      add_generation_prompt: addGenerationPrompt,
    });
  } catch (error) {
    // Includes the template's own raise_exception('…') (the library defines it, as transformers does).
    throw new ConfigError(`chat template failed to render: ${(error as Error).message}`, { cause: error });
  }
}

/** A model folder's chat template and the variables its Jinja source expects. */
export interface FolderChatTemplate {
  template: ChatTemplateSpec;
  variables: Record<string, unknown>;
}

/**
 * The chat template of a model folder: Moonlight's when the folder's tokenizer is Moonlight's tiktoken
 * (tiktoken.model, tokenizer_config.json naming TikTokenTokenizer), else tokenizer_config.json's Jinja
 * `chat_template` (a string, or transformers' list of {name, template}: the one named 'default'), else an error.
 */
export function chatTemplateFor(modelDir: string): FolderChatTemplate {
  const configFile = path.join(modelDir, 'tokenizer_config.json');
  const config = fs.existsSync(configFile) ? readJsonObject(configFile, 'tokenizer config') : {};
  if (isMoonlightTiktokenFolder(modelDir, config)) return { template: 'moonlight', variables: {} };
  const jinjaFile = path.join(modelDir, 'chat_template.jinja'); // transformers ≥ 4.43 may save it beside the config
  let template: string | undefined;
  if (typeof config.chat_template === 'string') template = config.chat_template;
  else if (Array.isArray(config.chat_template)) {
    const named = (config.chat_template as Array<{ name?: unknown; template?: unknown }>).find((entry) => entry?.name === 'default');
    if (typeof named?.template === 'string') template = named.template;
  } else if (fs.existsSync(jinjaFile)) template = fs.readFileSync(jinjaFile, 'utf8');
  if (template === undefined) {
    throw new ConfigError(`${modelDir} has no chat template: neither a Moonlight tiktoken.model nor a chat_template in ${configFile} or ${jinjaFile}`);
  }
  const variables: Record<string, unknown> = {};
  for (const key of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) {
    const token = tokenContent(config[key]);
    if (token !== undefined) variables[key] = token;
  }
  return { template, variables };
}

/** Moonlight's HF layout: tiktoken.model, and either no tokenizer.json or a config that names a TikToken class. */
export function isMoonlightTiktokenFolder(modelDir: string, config: Record<string, unknown>): boolean {
  if (!fs.existsSync(path.join(modelDir, 'tiktoken.model'))) return false;
  if (!fs.existsSync(path.join(modelDir, 'tokenizer.json'))) return true;
  return /tiktoken/i.test(JSON.stringify([config.tokenizer_class ?? null, config.auto_map ?? null]));
}

function checkMessages(messages: readonly ChatMessage[]): void {
  if (!Array.isArray(messages)) throw new ArgumentError('applyChatTemplate: messages must be an array of {role, content}');
  messages.forEach((message, index) => {
    if (typeof message !== 'object' || message === null || typeof message.role !== 'string' || typeof message.content !== 'string') {
      throw new ArgumentError(`applyChatTemplate: messages[${index}] must be {role: string, content: string}, got ${JSON.stringify(message)}`);
    }
  });
}
