import * as fs from 'fs';
import * as path from 'path';
import type { CommandModule } from 'yargs';
import { CausalLM } from '../../models/causal_lm';
import { loadTokenizer } from '../../data/tokenizer';
import type { Tokenizer } from '../../data/tokenizer';
import { applyChatTemplate, chatTemplateFor } from '../../infer/chat_template';
import { stopTokenIdsFor } from '../../infer/stop_tokens';

interface GenerateArgs {
  model: string;
  prompt: string;
  tokenizer?: string;
  chat: boolean;
  max_new_tokens: number;
  temperature: number;
  top_k: number;
  top_p: number;
  seed: number;
  stop: string[];
}

async function tokenizerFor(modelDir: string, spec: string | undefined): Promise<Tokenizer> {
  if (spec !== undefined) return loadTokenizer(spec);
  const own = ['tokenizer.json', 'tiktoken.model'].some((file) => fs.existsSync(path.join(modelDir, file)));
  return loadTokenizer(own ? modelDir : 'byte');
}

/** `moonlight generate`: streams a model's continuation of a prompt to stdout. */
export const generateCommand: CommandModule<object, GenerateArgs> = {
  command: 'generate',
  describe: 'Generate text from a model folder, streaming it to stdout',
  builder: (y) =>
    y
      .option('model', { type: 'string', demandOption: true, describe: 'Hugging Face model folder' })
      .option('prompt', { type: 'string', demandOption: true, describe: 'Prompt text' })
      .option('tokenizer', { type: 'string', describe: "Tokenizer (default: the model folder's own, else 'byte')" })
      .option('chat', { type: 'boolean', default: false, describe: "Wrap the prompt as a user turn with the folder's chat template" })
      .option('max_new_tokens', { type: 'number', default: 64, describe: 'New tokens at most' })
      .option('temperature', { type: 'number', default: 0, describe: '0: greedy' })
      .option('top_k', { type: 'number', default: 0, describe: '0: off' })
      .option('top_p', { type: 'number', default: 1, describe: '1: off' })
      .option('seed', { type: 'number', default: 0, describe: 'Sampling seed' })
      .option('stop', { type: 'string', array: true, default: [] as string[], describe: 'Stop strings' }) as never,
  handler: async (args) => {
    const tokenizer = await tokenizerFor(args.model, args.tokenizer);
    const model = (await CausalLM.fromPretrained(args.model)).eval();
    try {
      let prompt = args.prompt;
      if (args.chat) {
        const folder = chatTemplateFor(args.model);
        prompt = applyChatTemplate([{ role: 'user', content: prompt }],
          { addGenerationPrompt: true, template: folder.template, variables: folder.variables });
      }
      const inputIds = [tokenizer.encode(prompt)];
      const stream = model.generateStream(inputIds, {
        maxNewTokens: args.max_new_tokens,
        temperature: args.temperature,
        topK: args.top_k,
        topP: args.top_p,
        seed: args.seed,
        // Moonlight Instruct stops on <|im_end|>, others on generation_config.json's EOS ids.
        stopTokenIds: stopTokenIdsFor(tokenizer, args.model),
        stopStrings: args.stop.length > 0 ? args.stop : undefined,
        tokenizer,
      });
      for await (const { text } of stream) if (text) process.stdout.write(text);
      process.stdout.write('\n');
    } finally {
      model.dispose();
      tokenizer.dispose();
    }
  },
};
