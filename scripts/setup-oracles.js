'use strict';
// Installs the Python packages the tests use as oracles (scripts/python-oracle-requirements.txt). Exact pins
// and --no-deps: pip only reaches the machine's local index, and an unpinned or dependency-resolving install
// would stall retrying the public one. A no-op when satisfied.
// Where: MOONLIGHT_PYTHON if set; else python3 when it accepts installs; else (an externally managed or
// read-only system Python, as for a user without root) the project's virtual environment .venv-oracles/.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { oracleVenvDir, oracleVenvPython, oraclePython } = require('./oracle-python');

const requirements = path.join(__dirname, 'python-oracle-requirements.txt');

/** True when `python` may install packages into its own site-packages (writable, not PEP 668-managed). */
function acceptsInstalls(python) {
  const probe = spawnSync(python, ['-c',
    'import os, sys, sysconfig; p = sysconfig.get_paths(); ' +
    "managed = os.path.exists(os.path.join(p['stdlib'], 'EXTERNALLY-MANAGED')) and sys.prefix == sys.base_prefix; " +
    "print(int(os.access(p['purelib'], os.W_OK) and not managed))"], { encoding: 'utf8' });
  return probe.status === 0 && probe.stdout.trim() === '1';
}

function choosePython(log) {
  const python = oraclePython();
  if (python !== 'python3' || acceptsInstalls('python3')) return python;
  log(`moonlight-torch: python3 refuses installs here; making the oracles' virtual environment ${oracleVenvDir}`);
  const venv = spawnSync('python3', ['-m', 'venv', oracleVenvDir], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (venv.status !== 0 || !fs.existsSync(oracleVenvPython)) {
    fs.rmSync(oracleVenvDir, { recursive: true, force: true });
    throw new Error(`python3 -m venv ${oracleVenvDir} failed: install Python's venv module ` +
      '(Debian/Ubuntu: sudo apt-get install python3-venv), or set MOONLIGHT_PYTHON to a Python that accepts installs');
  }
  return oracleVenvPython;
}

try {
  const python = choosePython(console.error);
  const result = spawnSync(
    python,
    ['-m', 'pip', 'install', '--quiet', '--no-deps', '--disable-pip-version-check', '--no-input', '--retries', '1',
      '--timeout', '30', '-r', requirements],
    { stdio: ['ignore', 'inherit', 'inherit'], timeout: 20 * 60_000 },
  );
  if (result.status !== 0) throw new Error(`could not install the Python test oracles from ${requirements} with ${python}`);
  console.error(`moonlight-torch: Python test oracles ready in ${python}`);
} catch (error) {
  console.error(`moonlight-torch: ${error.message}`);
  process.exit(1);
}
