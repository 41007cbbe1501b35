import * as fs from 'fs';
import * as path from 'path';
import type { CommandModule } from 'yargs';
import { ArgumentError } from '../../errors';
import { CausalLM } from '../../models/causal_lm';
import { loadLoraAdapter } from '../../models/lora';
import { copyTokenizerFiles } from '../../train/fine_tune';

interface MergeArgs {
  base: string;
  adapter: string;
  out: string;
}

/** `moonlight merge`: folds a PEFT LoRA adapter into its base model and writes a complete Hugging Face folder. */
export const mergeCommand: CommandModule<object, MergeArgs> = {
  command: 'merge',
  describe: 'Merge a LoRA adapter folder (PEFT layout) into its base model folder and save the result',
  builder: (y) =>
    y
      .option('base', { type: 'string', demandOption: true, describe: 'The base Hugging Face model folder' })
      .option('adapter', { type: 'string', demandOption: true, describe: 'The adapter folder (adapter_config.json, adapter_model.safetensors)' })
      .option('out', { type: 'string', demandOption: true, describe: 'Folder for the merged model (config, weights, tokenizer files)' }),
  handler: async (args) => {
    if (path.resolve(args.out) === path.resolve(args.base)) throw new ArgumentError('--out must differ from --base: merging does not overwrite the base model');
    const model = await CausalLM.fromPretrained(args.base);
    try {
      const settings = await loadLoraAdapter(model, args.adapter);
      const merged = model.mergeLora();
      fs.mkdirSync(args.out, { recursive: true });
      await model.savePretrained(args.out);
      copyTokenizerFiles(path.resolve(args.base), path.resolve(args.out));
      process.stdout.write(`merged ${merged} adapted layers (${settings.modules.length} modules, r ${settings.rank}, alpha ${settings.alpha}) into ${path.resolve(args.out)}\n`);
    } finally {
      model.dispose();
    }
  },
};
