'use strict';
// Child process of the exact-resume test: trains a tiny Moonlight-style MoE with Muon (its AdamW part
// included) on deterministic batches, and
//   full <steps> <outDir>            trains <steps> steps and writes losses + final weights;
//   first <steps> <runDir>           trains, saves a training checkpoint, says "saved" and waits to be killed;
//   resume <runDir> <steps> <outDir> loads the newest checkpoint and trains <steps> more, then writes as `full`.
const fs = require('fs');
const path = require('path');
const { CausalLM, Muon, loadTrainingCheckpoint, saveSafetensors, saveTrainingCheckpoint, tensor } = require('../../dist');

const config = JSON.parse(process.env.MOONLIGHT_RESUME_CONFIG);
const [mode, ...args] = process.argv.slice(2);

function batch(step) {
  const rows = Array.from({ length: 4 }, (_, r) =>
    Array.from({ length: 16 }, (_, c) => (step * 7919 + r * 131 + c * 37 + ((c * c) % 11)) % config.vocab_size),
  );
  return tensor(rows, { dtype: 'int64' });
}

function build() {
  const model = CausalLM.fromConfig(config, { seed: 7 });
  const optimizer = new Muon(model.namedParameters({ expertStacks: true }), { lr: 0.02, weightDecay: 0.1 });
  return { model, optimizer };
}

async function train(model, optimizer, fromStep, steps, losses) {
  for (let step = fromStep; step < fromStep + steps; step++) {
    const ids = batch(step);
    const metrics = await model.trainStep(ids, { labels: ids, maxGradNorm: 1.0 });
    await optimizer.step();
    optimizer.zeroGrad();
    ids.dispose();
    losses.push(metrics.loss);
  }
}

async function writeResult(model, losses, outDir) {
  fs.mkdirSync(outDir, { recursive: true });
  await saveSafetensors(path.join(outDir, 'weights.safetensors'), model.stateDict());
  fs.writeFileSync(path.join(outDir, 'losses.json'), JSON.stringify(losses));
}

async function main() {
  if (mode === 'full') {
    const { model, optimizer } = build();
    const losses = [];
    await train(model, optimizer, 0, Number(args[0]), losses);
    await writeResult(model, losses, args[1]);
  } else if (mode === 'first') {
    const { model, optimizer } = build();
    const losses = [];
    const steps = Number(args[0]);
    await train(model, optimizer, 0, steps, losses);
    await saveTrainingCheckpoint(args[1], steps, { model: model.stateDict(), optimizer: optimizer.stateDict(), state: { step: steps, losses } });
    process.stdout.write('saved\n');
    setInterval(() => {}, 1000); // wait for SIGKILL
  } else if (mode === 'resume') {
    const checkpoint = await loadTrainingCheckpoint(args[0]);
    const { model, optimizer } = build();
    model.loadStateDict(checkpoint.model);
    optimizer.loadStateDict(checkpoint.optimizer);
    const losses = [...checkpoint.state.losses];
    await train(model, optimizer, checkpoint.step, Number(args[1]), losses);
    await writeResult(model, losses, args[2]);
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
