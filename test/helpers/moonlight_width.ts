/**
 * Moonlight-16B-A3B's own config.json cut to 2 layers (one dense layer of 11264, one MoE layer of 64 routed
 * experts × 1408, top-6, 2 shared; hidden 2048, MLA kv_lora_rank 512) and a 2048-token vocabulary: about
 * 0.68 B parameters, written by transformers as bf16 shards with an index (scripts/oracle/
 * moonlight_width_reference.py), made once and cached in .cache/test-moonlight-width.
 */
import * as fs from 'fs';
import * as path from 'path';
import { runPythonFile } from './python';

export const moonlightWidthOracle = path.join(__dirname, '..', '..', 'scripts', 'oracle', 'moonlight_width_reference.py');
export const moonlightWidthDirectory = path.join(__dirname, '..', '..', '.cache', 'test-moonlight-width');

/** Makes the checkpoint unless the cache holds it; returns its folder. */
export function moonlightWidthCheckpoint(): string {
  runPythonFile(
    moonlightWidthOracle,
    { action: 'make', dir: moonlightWidthDirectory, layers: 2, seed: 3, vocab_size: 2048 },
    900_000,
  );
  return moonlightWidthDirectory;
}

/** Its config.json, as fromConfig takes it. */
export function moonlightWidthConfig(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(moonlightWidthCheckpoint(), 'config.json'), 'utf8'));
}
