'use strict';
// Child process of the crash-safety test: saves training checkpoints in a loop, forever, until killed.
// Checkpoint i holds tensors filled with the value i and records i in its state, so a reader can tell a
// mixed (torn) checkpoint from a complete one. Steps cycle 1..3 so saves also replace existing ones.
const { full, saveTrainingCheckpoint } = require('../../dist');

const runDir = process.argv[2];
let iteration = Number(process.argv[3] || 1);

async function main() {
  for (;;) {
    const model = { 'layers.0.weight': full([256, 1024], iteration), 'layers.1.weight': full([256, 1024], iteration), norm: full([1024], iteration) };
    const optimizer = { 'layers.0.weight.momentum': full([256, 1024], iteration) };
    await saveTrainingCheckpoint(runDir, (iteration % 3) + 1, { model, optimizer, state: { fill: iteration } }, { keepLast: 2, maxShardBytes: 1_500_000 });
    for (const t of [...Object.values(model), ...Object.values(optimizer)]) t.dispose();
    process.stdout.write(`saved ${iteration}\n`);
    iteration++;
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
