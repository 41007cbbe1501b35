// Interop with Python safetensors (the format's reference implementation) in both directions, bit-exact.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  loadSafetensors,
  loadShardedSafetensors,
  openSafetensors,
  saveSafetensors,
  saveShardedSafetensors,
  tensor,
  tensorBytes,
} from '../src';
import { runPython } from './helpers/python';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'safetensors-interop-'));
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

// Python writes one tensor of every dtype (random bits, so every bit pattern class appears), plus a
// scalar and an empty tensor, and reports each tensor's raw bytes.
const writeAllDtypes = `
import json, sys, torch
from safetensors.torch import save_file
args = json.load(sys.stdin)
g = torch.Generator().manual_seed(0)
dtypes = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
          "BOOL": torch.bool, "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2}
tensors = {}
for name, dtype in dtypes.items():
    raw = torch.randint(0, 256, (3, 4 * dtype.itemsize), generator=g, dtype=torch.uint8)
    if dtype == torch.bool:
        raw = raw % 2
    tensors["t_" + name] = raw.view(dtype).clone()
tensors["scalar"] = torch.tensor(3.5)
tensors["empty"] = torch.zeros(0, 5)
save_file(tensors, args["path"], metadata={"source": "python"})
print(json.dumps({k: {"hex": v.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes().hex(), "shape": list(v.shape)} for k, v in tensors.items()}))
`;

test('files Python writes load bit-exactly, every dtype', async () => {
  const file = path.join(work, 'python.safetensors');
  const expected = runPython<Record<string, { hex: string; shape: number[] }>>(writeAllDtypes, { path: file });
  const loaded = await loadSafetensors(file);
  expect(Object.keys(loaded).sort()).toEqual(Object.keys(expected).sort());
  for (const [name, want] of Object.entries(expected)) {
    expect([name, [...loaded[name].shape]]).toEqual([name, want.shape]);
    expect([name, hex(tensorBytes(loaded[name]))]).toEqual([name, want.hex]);
  }
  const opened = await openSafetensors(file);
  expect(opened.metadata()).toEqual({ source: 'python' }); // Python adds no format when metadata is given
  expect(opened.header().t_BF16.dtype).toBe('BF16');
  expect(opened.get('t_F8_E4M3').dtype as string).toBe('float8_e4m3fn');
});

test('files we write load in Python bit-exactly and are byte-identical to what Python writes', async () => {
  const source = path.join(work, 'python-source.safetensors');
  runPython(writeAllDtypes, { path: source });
  const tensors = await loadSafetensors(source);
  const ours = path.join(work, 'ours.safetensors');
  // One metadata key: Python keeps __metadata__ in a hash map, so the order of several keys varies by run.
  await saveSafetensors(ours, tensors, { metadata: { format: 'pt' } });
  const verdict = runPython<{ equal: Record<string, boolean>; sameBytes: boolean; headerLength: number }>(
    `
import json, sys, torch
from safetensors.torch import load_file, save_file
args = json.load(sys.stdin)
a, b = load_file(args["source"]), load_file(args["ours"])
equal = {k: (k in b and a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and
             torch.equal(a[k].contiguous().reshape(-1).view(torch.uint8), b[k].contiguous().reshape(-1).view(torch.uint8))) for k in a}
save_file(b, args["again"], metadata={"format": "pt"})
with open(args["ours"], "rb") as f: ours = f.read()
with open(args["again"], "rb") as f: again = f.read()
print(json.dumps({"equal": equal, "sameBytes": ours == again, "headerLength": int.from_bytes(ours[:8], "little")}))
`,
    { source, ours, again: path.join(work, 'python-again.safetensors') },
  );
  expect(Object.values(verdict.equal).every(Boolean)).toBe(true);
  expect(Object.keys(verdict.equal)).toHaveLength(14);
  expect(verdict.sameBytes).toBe(true);
  expect((8 + verdict.headerLength) % 8).toBe(0);
});

test('values from JS round-trip through Python unchanged', async () => {
  const file = path.join(work, 'from-js.safetensors');
  await saveSafetensors(file, {
    weights: tensor([[0.1, -2.5], [3.25, 1e-3]], { dtype: 'bfloat16' }),
    ids: tensor([1n, -2n, 2n ** 40n]),
  });
  const seen = runPython<Record<string, number[]>>(
    `
import json, sys
from safetensors.torch import load_file
t = load_file(json.load(sys.stdin))
print(json.dumps({k: v.float().flatten().tolist() if v.is_floating_point() else v.flatten().tolist() for k, v in t.items()}))
`,
    file,
  );
  expect(seen.weights).toEqual(tensor([[0.1, -2.5], [3.25, 1e-3]], { dtype: 'bfloat16' }).toNumbers());
  expect(seen.ids).toEqual([1, -2, 2 ** 40]);
});

test('sharded checkpoints: our shards and index load in Python, and Python-written shards load in ours', async () => {
  const folder = path.join(work, 'sharded');
  const tensors: Record<string, ReturnType<typeof tensor>> = {};
  for (let i = 0; i < 5; i++) tensors[`layers.${i}.weight`] = tensor(Array.from({ length: 1000 }, (_, j) => i + j / 1000));
  const files = await saveShardedSafetensors(folder, tensors, { maxShardBytes: 8500 });
  expect(files.map((f) => path.basename(f))).toEqual([
    'model-00001-of-00003.safetensors',
    'model-00002-of-00003.safetensors',
    'model-00003-of-00003.safetensors',
    'model.safetensors.index.json',
  ]);
  const pythonView = runPython<{ names: string[]; totalSize: number; sums: Record<string, number> }>(
    `
import json, os, sys
from safetensors.torch import load_file
folder = json.load(sys.stdin)
index = json.load(open(os.path.join(folder, "model.safetensors.index.json")))
sums = {}
for name, shard in index["weight_map"].items():
    sums[name] = float(load_file(os.path.join(folder, shard))[name].double().sum())
print(json.dumps({"names": sorted(index["weight_map"]), "totalSize": index["metadata"]["total_size"], "sums": sums}))
`,
    folder,
  );
  expect(pythonView.totalSize).toBe(5 * 4000);
  expect(pythonView.names).toEqual(Object.keys(tensors).sort());
  for (const [name, t] of Object.entries(tensors)) expect(pythonView.sums[name]).toBeCloseTo(t.sum().item(), 2);

  // Python writes shards with unpadded names (as Moonlight's repo does); the index alone names them.
  const pyFolder = path.join(work, 'python-sharded');
  runPython(
    `
import json, os, sys, torch
from safetensors.torch import save_file
folder = json.load(sys.stdin); os.makedirs(folder, exist_ok=True)
a = {"a": torch.arange(6.).reshape(2, 3)}; b = {"b": torch.ones(4, dtype=torch.bfloat16)}
save_file(a, os.path.join(folder, "model-1-of-2.safetensors"), metadata={"format": "pt"})
save_file(b, os.path.join(folder, "model-2-of-2.safetensors"), metadata={"format": "pt"})
json.dump({"metadata": {"total_size": 32}, "weight_map": {"a": "model-1-of-2.safetensors", "b": "model-2-of-2.safetensors"}},
          open(os.path.join(folder, "model.safetensors.index.json"), "w"))
print("null")
`,
    pyFolder,
  );
  const loaded = await loadShardedSafetensors(pyFolder, { dtype: 'float32' });
  expect(loaded.a.tolist()).toEqual([[0, 1, 2], [3, 4, 5]]);
  expect(loaded.b.dtype).toBe('float32');
  expect(loaded.b.toNumbers()).toEqual([1, 1, 1, 1]);
});

test('re-saving with fewer shards removes the stale ones', async () => {
  const folder = path.join(work, 'reshard');
  const tensors = { a: tensor(new Float32Array(1000)), b: tensor(new Float32Array(1000)) };
  await saveShardedSafetensors(folder, tensors, { maxShardBytes: 4000 });
  expect(fs.readdirSync(folder).sort()).toEqual([
    'model-00001-of-00002.safetensors',
    'model-00002-of-00002.safetensors',
    'model.safetensors.index.json',
  ]);
  await saveShardedSafetensors(folder, tensors);
  expect(fs.readdirSync(folder)).toEqual(['model.safetensors']);
  expect(Object.keys(await loadShardedSafetensors(folder))).toEqual(['a', 'b']);
});
