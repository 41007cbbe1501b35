'use strict';
// Builds the addon with cmake-js against the libtorch that scripts/libtorch.js finds (installing the
// project-local one if no other route has libtorch). Output: build/Release/moonlight.node + build-info.json.
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { ensureLibtorch, packageRoot } = require('./libtorch');

function buildNative({ env = process.env, log = console.error } = {}) {
  const libtorch = ensureLibtorch(env, log);
  log(`moonlight-torch: building against libtorch ${libtorch.version} (${libtorch.route}: ${libtorch.root})`);
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const args = [
    cmakeJs, 'build', '--directory', packageRoot, '--out', path.join(packageRoot, 'build'),
    `--CDCMAKE_PREFIX_PATH=${libtorch.cmakePrefixPath}`,
    `--CDMOONLIGHT_LIBTORCH_ROUTE=${libtorch.route}`,
  ];
  const result = spawnSync(process.execPath, args, {
    cwd: packageRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...env, CMAKE_BUILD_PARALLEL_LEVEL: env.CMAKE_BUILD_PARALLEL_LEVEL || String(os.availableParallelism()) },
  });
  if (result.status !== 0) {
    throw new Error(`cmake-js build failed (exit ${result.status ?? result.signal}); see the compiler output above`);
  }
  return libtorch;
}

module.exports = { buildNative };

if (require.main === module) {
  try {
    buildNative();
  } catch (error) {
    console.error(`moonlight-torch: ${error.message}`);
    process.exit(1);
  }
}
