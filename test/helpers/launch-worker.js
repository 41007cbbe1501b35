// A worker for test/launch.test.ts, run by `moonlight launch`: `launch-worker.js MODE [ARGS...]`.
//   env DIR      write its environment to DIR/rank-RANK.json, a line on each stream, end without a newline
//   args         print its arguments as JSON
//   loop         start a sleeping child, print both pids, run until killed
//   exit CODE    rank 1 exits with CODE once both pids are printed; the others loop
//   stubborn     rank 1 exits with 3; the others ignore SIGTERM (as a rank stuck in a collective) and loop
//   sigterm      on SIGTERM print that it got it and exit 0; else loop
//   leave-child  start a sleeping child, print both pids, exit 0 (the child stays in its process group)
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const [mode, ...rest] = process.argv.slice(2);
const rank = process.env.RANK;

function startSleepingChild() {
  // stdio ignored: the child must not hold the worker's pipes, as most real grandchildren would not.
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  child.unref(); // leave-child's worker exits without waiting for it
  console.log(`rank ${rank} pid ${process.pid} child ${child.pid}`);
}

const runForever = () => setInterval(() => {}, 1000);

switch (mode) {
  case 'env':
    fs.writeFileSync(path.join(rest[0], `rank-${rank}.json`), JSON.stringify(process.env));
    console.log(`stdout of ${rank}`);
    console.error(`stderr of ${rank}`);
    process.stdout.write(`unfinished line of ${rank}`);
    break;
  case 'args':
    console.log(JSON.stringify(rest));
    break;
  case 'loop':
    startSleepingChild();
    runForever();
    break;
  case 'exit':
    startSleepingChild();
    if (rank === '1') setTimeout(() => process.exit(Number(rest[0])), 300);
    else runForever();
    break;
  case 'stubborn':
    startSleepingChild();
    if (rank === '1') setTimeout(() => process.exit(3), 300);
    else {
      process.on('SIGTERM', () => console.log(`rank ${rank} ignores SIGTERM`));
      runForever();
    }
    break;
  case 'sigterm':
    process.on('SIGTERM', () => {
      console.log(`rank ${rank} got SIGTERM`);
      process.exit(0);
    });
    console.log(`rank ${rank} ready`);
    runForever();
    break;
  case 'leave-child':
    startSleepingChild();
    break;
  default:
    console.error(`unknown mode ${mode}`);
    process.exit(2);
}
