'use strict';
// The Python that runs the test oracles and the benchmarks' Python side (never the product), in order:
//   1. MOONLIGHT_PYTHON;
//   2. the project's virtual environment .venv-oracles/, which scripts/setup-oracles.js makes when the
//      system Python refuses installs (PEP 668's externally managed environments, or no write access);
//   3. python3.
const fs = require('fs');
const path = require('path');
const { packageRoot } = require('./libtorch');

const oracleVenvDir = path.join(packageRoot, '.venv-oracles');
const oracleVenvPython = path.join(oracleVenvDir, 'bin', 'python');

function oraclePython(env = process.env) {
  if (env.MOONLIGHT_PYTHON) return env.MOONLIGHT_PYTHON;
  if (fs.existsSync(oracleVenvPython)) return oracleVenvPython;
  return 'python3';
}

module.exports = { oracleVenvDir, oracleVenvPython, oraclePython };
