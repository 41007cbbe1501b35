import * as fs from 'fs';
import * as path from 'path';
import type { CommandModule } from 'yargs';
import { writeFileAtomically } from '../../io/atomic_file';
import { renderEntropyChart } from '../../experiments/entropy_chart';
import { analyzeCheckpoints, entropyTable } from '../../experiments/svd_entropy';
import { svgToPng } from '../../plot/png';

interface AnalyzeArgs {
  checkpoints: string[];
  out?: string;
  json: boolean;
}

/** `moonlight analyze CKPT...`: SVD entropy of every weight matrix, by matrix type, compared across checkpoints. */
export const analyzeCommand: CommandModule<object, AnalyzeArgs> = {
  command: 'analyze <checkpoints..>',
  describe: 'SVD entropy of every weight matrix, grouped by matrix type and compared across checkpoints (table + plot)',
  builder: (y) =>
    y
      .positional('checkpoints', { type: 'string', array: true, demandOption: true, describe: 'Training checkpoints, run folders (newest checkpoint), HF model folders or .safetensors files' })
      .option('out', { type: 'string', describe: 'Folder for svd-entropy.svg / .png / .json (default: none, table only)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the results as JSON instead of a table' })
      .example('moonlight analyze runs/muon runs/adamw --out analysis/', 'Muon- vs AdamW-trained weights'),
  handler: async (args) => {
    const results = await analyzeCheckpoints(args.checkpoints);
    const labels = args.checkpoints.map((c) => path.basename(path.resolve(c)));
    if (args.json) console.log(JSON.stringify(results, null, 2));
    else console.log(entropyTable(results, labels));
    if (args.out !== undefined) {
      const svg = renderEntropyChart(results, labels);
      fs.mkdirSync(args.out, { recursive: true });
      for (const [file, contents] of [['svd-entropy.svg', svg], ['svd-entropy.png', svgToPng(svg)], ['svd-entropy.json', `${JSON.stringify(results, null, 2)}\n`]] as const) {
        writeFileAtomically(path.join(args.out, file), contents);
        console.error(path.join(args.out, file));
      }
    }
  },
};
