'use strict';
// Builds the addon with cmake-js against the libtorch that scripts/libtorch.js finds (installing the
// project-local one if no other route has libtorch). Output: build/Release/moonlight.node + build-info.json.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { ensureLibtorch, packageRoot } = require('./libtorch');
const { ensureBuildHeaders } = require('./build-headers');

const defaultBuildDir = path.join(packageRoot, 'build');

/**
 * Builds into `buildDir` (default <package>/build) against `libtorch` (default: the one scripts/libtorch.js
 * finds or installs). `cmakeDefines` are extra `NAME=value` CMake variables (the CUDA flavour's toolkit paths).
 */
function buildNative({ env = process.env, log = console.error, buildDir = defaultBuildDir, libtorch, cmakeDefines = [] } = {}) {
  libtorch ??= ensureLibtorch(env, log);
  const headers = ensureBuildHeaders(env, log);
  const defines = [...cmakeDefines, `MOONLIGHT_EXTRA_INCLUDE_DIRS=${headers.includeDirs.join(';')}`];
  log(`moonlight-torch: building against libtorch ${libtorch.version} (${libtorch.route}: ${libtorch.root})`);
  // cmake-js only configures a fresh build folder; a different libtorch or header route than last time
  // needs a new configure, else the old one would silently stay in use.
  const configureInputs = JSON.stringify({ root: libtorch.root, route: libtorch.route, defines });
  const inputsFile = path.join(buildDir, 'configure-inputs.json');
  const previous = readBuildInfo(buildDir) && fs.existsSync(inputsFile) ? fs.readFileSync(inputsFile, 'utf8') : null;
  if (previous !== configureInputs) {
    runCmakeJs('configure', libtorch, env, buildDir, defines);
    fs.writeFileSync(inputsFile, configureInputs);
  }
  runCmakeJs('build', libtorch, env, buildDir, defines);
  return libtorch;
}

function readBuildInfo(buildDir = defaultBuildDir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(buildDir, 'Release', 'build-info.json'), 'utf8'));
  } catch {
    return null;
  }
}

function runCmakeJs(command, libtorch, env, buildDir, cmakeDefines) {
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [packageRoot] });
  const args = [
    cmakeJs, command, '--directory', packageRoot, '--out', buildDir,
    `--CDCMAKE_PREFIX_PATH=${libtorch.cmakePrefixPath}`,
    // Torch_DIR is cached by the first configure; naming it makes a libtorch switch take effect.
    `--CDTorch_DIR=${path.join(libtorch.cmakePrefixPath, "Torch")}`,
    `--CDMOONLIGHT_LIBTORCH_ROUTE=${libtorch.route}`,
    ...cmakeDefines.map((define) => `--CD${define}`),
  ];
  const result = spawnSync(process.execPath, args, {
    cwd: packageRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...env, CMAKE_BUILD_PARALLEL_LEVEL: env.CMAKE_BUILD_PARALLEL_LEVEL || String(os.availableParallelism()) },
  });
  if (result.status !== 0) {
    throw new Error(`cmake-js ${command} failed (exit ${result.status ?? result.signal}); see the output above`);
  }
}

module.exports = { buildNative, readBuildInfo, defaultBuildDir };

if (require.main === module) {
  try {
    buildNative();
  } catch (error) {
    console.error(`moonlight-torch: ${error.message}`);
    process.exit(1);
  }
}
