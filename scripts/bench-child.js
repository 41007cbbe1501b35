'use strict';
// What the memory benchmarks share: reading this process's RSS, running a measurement in a fresh child process
// (its last stdout line is one JSON object), and a script's choice between its child modes and its main.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');

/** VmRSS, VmHWM, … of this process in bytes. */
function rssBytes(field) {
  const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return Number(line.split(/\s+/)[1]) * 1024;
}

function runChild(command, args, input) {
  const result = spawnSync(command, args, { input, encoding: 'utf8', maxBuffer: 64 << 20, cwd: root });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr.slice(-4000)}`);
  return JSON.parse(result.stdout.trim().split('\n').pop());
}

/** Runs children[argv[2]] (printing its result as one JSON line) when the script was started as that child, else main. */
function childOrMain(children, main) {
  const child = children[process.argv[2]];
  if (!child) {
    main();
    return;
  }
  child().then(
    (result) => console.log(JSON.stringify(result)),
    (error) => {
      console.error(error.stack || error.message);
      process.exit(1);
    },
  );
}

module.exports = { root, rssBytes, runChild, childOrMain };
