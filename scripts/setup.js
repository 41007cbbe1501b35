'use strict';
// One command from a fresh clone (or an installed package) to a working moonlight-torch:
// finds libtorch (LIBTORCH → Python torch → project-local pip install, made here if needed), builds the
// addon incrementally with cmake-js, and compiles the TypeScript when the compiler is present.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { buildNative } = require('./build-native');
const { packageRoot } = require('./libtorch');

function buildTypeScript(log) {
  let tsc;
  try {
    tsc = require.resolve('typescript/bin/tsc', { paths: [packageRoot] });
  } catch {
    // An installed package ships dist/ and has no compiler: nothing to do.
    if (!fs.existsSync(path.join(packageRoot, 'dist', 'index.js'))) {
      throw new Error('dist/ is missing and TypeScript is not installed: run `npm ci` first');
    }
    return;
  }
  log('moonlight-torch: compiling TypeScript to dist/');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(packageRoot, 'tsconfig.build.json')], {
    cwd: packageRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) throw new Error('TypeScript compilation failed; see the errors above');
}

function setup({ log = console.error } = {}) {
  const libtorch = buildNative({ log });
  if (fs.existsSync(path.join(packageRoot, 'tsconfig.build.json'))) buildTypeScript(log);
  log(`moonlight-torch: ready (libtorch ${libtorch.version} via ${libtorch.route}: ${libtorch.root})`);
}

module.exports = { setup };

if (require.main === module) {
  try {
    setup();
  } catch (error) {
    console.error(`moonlight-torch setup failed: ${error.message}`);
    process.exit(1);
  }
}
