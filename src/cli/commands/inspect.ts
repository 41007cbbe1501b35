import * as fs from 'fs';
import * as path from 'path';
import type { CommandModule } from 'yargs';
import { inspectCheckpoint } from '../../io/safetensors';
import { parseModelConfig } from '../../models/config';
import { nativeParameterCounts } from '../../models/parameter_count';

interface InspectArgs {
  path: string;
  json: boolean;
  filter?: string;
  limit: number;
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 2)} ${units[unit]}`;
}

const configSummaryKeys = [
  'model_type', 'architectures', 'vocab_size', 'hidden_size', 'intermediate_size', 'moe_intermediate_size',
  'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'n_routed_experts', 'n_shared_experts',
  'num_experts_per_tok', 'kv_lora_rank', 'q_lora_rank', 'max_position_embeddings', 'torch_dtype', 'dtype',
];

/** `moonlight inspect <file|dir>`: tensors, dtypes, shapes, sizes, metadata and totals of a checkpoint. */
export const inspectCommand: CommandModule<object, InspectArgs> = {
  command: 'inspect <path>',
  describe: 'List the tensors (name, dtype, shape, bytes), metadata and totals of a safetensors file, index or model folder',
  builder: (y) =>
    y
      .positional('path', { type: 'string', demandOption: true, describe: 'A .safetensors file, an index .json, or a folder' })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON object instead of a table' })
      .option('filter', { type: 'string', describe: 'Only tensors whose name matches this regular expression' })
      .option('limit', { type: 'number', default: Infinity, describe: 'List at most this many tensors (totals still cover all)' }),
  handler: async (args) => {
    const checkpoint = await inspectCheckpoint(args.path);
    const pattern = args.filter === undefined ? null : new RegExp(args.filter);
    const tensors = checkpoint.tensors.filter((t) => pattern === null || pattern.test(t.name));
    const byDtype: Record<string, { tensors: number; elements: number; bytes: number }> = {};
    for (const t of tensors) {
      const entry = (byDtype[t.dtype] ??= { tensors: 0, elements: 0, bytes: 0 });
      entry.tensors++;
      entry.elements += t.shape.reduce((a, b) => a * b, 1);
      entry.bytes += t.bytes;
    }
    const totals = {
      tensors: tensors.length,
      elements: Object.values(byDtype).reduce((a, d) => a + d.elements, 0),
      bytes: Object.values(byDtype).reduce((a, d) => a + d.bytes, 0),
      files: new Set(tensors.map((t) => t.file)).size,
    };
    const folder = fs.statSync(path.resolve(args.path)).isDirectory() ? path.resolve(args.path) : path.dirname(checkpoint.path);
    const configPath = path.join(folder, 'config.json');
    const config = fs.existsSync(configPath) ? (JSON.parse(fs.readFileSync(configPath, 'utf8')) as Record<string, unknown>) : null;
    const configSummary = config === null ? null : Object.fromEntries(configSummaryKeys.filter((k) => k in config).map((k) => [k, config[k]]));
    let parameters: Record<string, number> | null = null;
    if (config !== null) {
      const counts = nativeParameterCounts(parseModelConfig(config));
      parameters = {
        total: counts.total,
        totalExcludingEmbeddings: counts.totalExcludingEmbeddings,
        activatedExcludingEmbeddings: counts.activatedExcludingEmbeddings,
      };
    }

    if (args.json) {
      console.log(JSON.stringify({ path: checkpoint.path, kind: checkpoint.kind, metadata: checkpoint.metadata, totals, byDtype, config: configSummary, parameters, tensors }, null, 2));
      return;
    }
    console.log(`${checkpoint.kind === 'sharded' ? 'sharded checkpoint' : 'file'}: ${checkpoint.path}`);
    if (Object.keys(checkpoint.metadata).length > 0) console.log(`metadata: ${JSON.stringify(checkpoint.metadata)}`);
    const shown = tensors.slice(0, args.limit);
    const nameWidth = Math.min(80, Math.max(4, ...shown.map((t) => t.name.length)));
    console.log(`${'name'.padEnd(nameWidth)}  ${'dtype'.padEnd(7)}  ${'shape'.padEnd(20)}  bytes`);
    for (const t of shown) {
      console.log(`${t.name.padEnd(nameWidth)}  ${t.dtype.padEnd(7)}  ${`[${t.shape.join(', ')}]`.padEnd(20)}  ${formatBytes(t.bytes)}`);
    }
    if (shown.length < tensors.length) console.log(`… ${tensors.length - shown.length} more (use --limit)`);
    for (const [dtype, d] of Object.entries(byDtype)) {
      console.log(`${dtype}: ${d.tensors} tensors, ${d.elements.toLocaleString('en-US')} elements, ${formatBytes(d.bytes)}`);
    }
    console.log(
      `total: ${totals.tensors} tensors in ${totals.files} file(s), ${totals.elements.toLocaleString('en-US')} elements, ${formatBytes(totals.bytes)}`,
    );
    if (configSummary !== null) console.log(`config: ${JSON.stringify(configSummary)}`);
    if (parameters !== null) {
      const billions = (n: number) => `${n.toLocaleString('en-US')} (${(n / 1e9).toFixed(2)} B)`;
      console.log(
        `parameters (from config.json): total ${billions(parameters.total)}, excluding embeddings ` +
          `${billions(parameters.totalExcludingEmbeddings)}, activated excluding embeddings ${billions(parameters.activatedExcludingEmbeddings)}`,
      );
    }
  },
};
