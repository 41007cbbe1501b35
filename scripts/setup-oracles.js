'use strict';
// Installs the Python packages the tests use as oracles (scripts/python-oracle-requirements.txt) into the
// python3 that runs them. Exact pins and --no-deps: pip only reaches the machine's local index, and an
// unpinned or dependency-resolving install would stall retrying the public one. A no-op when satisfied.
const path = require('path');
const { spawnSync } = require('child_process');

const python = process.env.MOONLIGHT_PYTHON || 'python3';
const requirements = path.join(__dirname, 'python-oracle-requirements.txt');

const result = spawnSync(
  python,
  ['-m', 'pip', 'install', '--quiet', '--no-deps', '--disable-pip-version-check', '--no-input', '--retries', '1',
    '--timeout', '30', '-r', requirements],
  { stdio: ['ignore', 'inherit', 'inherit'], timeout: 20 * 60_000 },
);
if (result.status !== 0) {
  console.error(`moonlight-torch: could not install the Python test oracles from ${requirements} with ${python}`);
  process.exit(1);
}
