'use strict';
// Finds the libtorch that the addon builds against and loads, in this order:
//   1. LIBTORCH: an unzipped libtorch distribution (or any folder with lib/ and share/cmake/Torch);
//   2. the Python torch that `python3` (or MOONLIGHT_PYTHON) imports;
//   3. a project-local install in <package>/.libtorch, made by `npm run setup` with pip (never by default
//      at load time: that is an install step).
// Every route's libtorch must be a supported version unless MOONLIGHT_BYPASS_VERSION_CHECK=1: the CPU
// flavour is pinned to torch 2.13.0 (the test oracles' version), the CUDA flavour's prebuilt binary to the
// CUDA torch wheel of the local index, 2.14.1; a source build accepts either.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const PINNED_TORCH_VERSION = '2.13.0';
// The libtorch each prebuilt flavour is built against (scripts/prebuild.js).
const FLAVOUR_TORCH_VERSIONS = { cpu: PINNED_TORCH_VERSION, cuda: '2.14.1' };
const SUPPORTED_TORCH_VERSIONS = [...new Set(Object.values(FLAVOUR_TORCH_VERSIONS))];
const packageRoot = path.resolve(__dirname, '..');
const localInstallDir = path.join(packageRoot, '.libtorch');
const pythonProbeTimeoutMs = 60_000;
const pipInstallTimeoutMs = 20 * 60_000;

class LibtorchNotFoundError extends Error {
  constructor(message) {
    super(message);
    this.name = 'LibtorchNotFoundError';
  }
}

function readTorchVersion(root) {
  const versionFile = path.join(root, 'share', 'cmake', 'Torch', 'TorchConfigVersion.cmake');
  const text = fs.readFileSync(versionFile, 'utf8');
  const match = /set\(PACKAGE_VERSION "([^"]+)"\)/.exec(text);
  if (!match) throw new LibtorchNotFoundError(`${versionFile} names no PACKAGE_VERSION`);
  return match[1];
}

function describeRoot(route, root) {
  const cmakeConfig = path.join(root, 'share', 'cmake', 'Torch', 'TorchConfig.cmake');
  const libDir = path.join(root, 'lib');
  if (!fs.existsSync(cmakeConfig) || !fs.existsSync(path.join(libDir, 'libtorch.so'))) {
    return null;
  }
  return {
    route,
    root,
    libDir,
    cmakePrefixPath: path.join(root, 'share', 'cmake'),
    version: readTorchVersion(root),
    cuda: fs.existsSync(path.join(libDir, 'libtorch_cuda.so')),
  };
}

function fromLibtorchEnv(env) {
  const value = env.LIBTORCH;
  if (!value) return null;
  const root = path.resolve(value);
  const found = describeRoot('LIBTORCH', root);
  if (!found) {
    // A set but wrong LIBTORCH is a user mistake to report, not a reason to quietly use another libtorch.
    throw new LibtorchNotFoundError(
      `LIBTORCH=${value} is not a libtorch folder: expected ${path.join(root, 'lib', 'libtorch.so')} and ` +
        `${path.join(root, 'share', 'cmake', 'Torch', 'TorchConfig.cmake')}. Point it at an unzipped libtorch, or unset it.`,
    );
  }
  return found;
}

function fromPython(env) {
  const python = env.MOONLIGHT_PYTHON || 'python3';
  const probe = spawnSync(
    python,
    // find_spec locates torch without importing it (an import costs seconds and CUDA initialisation).
    ['-c', "import importlib.util as u; s = u.find_spec('torch'); print(s.submodule_search_locations[0] if s else '')"],
    { encoding: 'utf8', timeout: pythonProbeTimeoutMs, env: { ...env, PYTHONWARNINGS: 'ignore' } },
  );
  if (probe.status !== 0 || !probe.stdout) return null;
  const root = probe.stdout.trim().split('\n').pop();
  return root ? describeRoot('python', root) : null;
}

function fromLocalInstall() {
  return describeRoot('local', path.join(localInstallDir, 'torch'));
}

function checkVersion(found, env) {
  const base = found.version.split('+')[0];
  if (!SUPPORTED_TORCH_VERSIONS.includes(base) && env.MOONLIGHT_BYPASS_VERSION_CHECK !== '1') {
    throw new LibtorchNotFoundError(
      `libtorch ${found.version} found through ${found.route} at ${found.root}, but moonlight-torch is pinned to ` +
        `${FLAVOUR_TORCH_VERSIONS.cpu} (CPU) or ${FLAVOUR_TORCH_VERSIONS.cuda} (CUDA). Install ` +
        `torch==${PINNED_TORCH_VERSION} (or unzip that libtorch and set LIBTORCH), ` +
        'or set MOONLIGHT_BYPASS_VERSION_CHECK=1 to try anyway.',
    );
  }
  return found;
}

/** The libtorch to use, or null when no route has one (and installing was not asked for). */
function findLibtorch(env = process.env) {
  const found = fromLibtorchEnv(env) || fromPython(env) || fromLocalInstall();
  return found ? checkVersion(found, env) : null;
}

/** Installs torch==PINNED into <package>/.libtorch with pip; atomic: a failed install leaves nothing behind. */
function installLocalLibtorch(env = process.env, log = console.error) {
  const python = env.MOONLIGHT_PYTHON || 'python3';
  const staging = `${localInstallDir}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  log(`moonlight-torch: installing torch==${PINNED_TORCH_VERSION} into ${localInstallDir} with pip (about 800 MB)…`);
  const pip = spawnSync(
    python,
    ['-m', 'pip', 'install', '--no-deps', '--disable-pip-version-check', '--no-input', '--target', staging,
      `torch==${PINNED_TORCH_VERSION}`],
    { stdio: ['ignore', 'inherit', 'inherit'], timeout: pipInstallTimeoutMs, env },
  );
  if (pip.status !== 0) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw new LibtorchNotFoundError(
      `pip could not install torch==${PINNED_TORCH_VERSION} (exit ${pip.status ?? pip.signal}). ` +
        'Set LIBTORCH to an unzipped libtorch, or install torch for python3, then run `npm run setup` again.',
    );
  }
  fs.rmSync(localInstallDir, { recursive: true, force: true });
  fs.renameSync(staging, localInstallDir);
  return checkVersion(fromLocalInstall(), env);
}

/** findLibtorch, installing the project-local copy when no route has one. */
function ensureLibtorch(env = process.env, log = console.error) {
  return findLibtorch(env) || installLocalLibtorch(env, log);
}

function notFoundMessage() {
  return (
    'moonlight-torch could not find libtorch. Routes tried, in order:\n' +
    '  1. LIBTORCH (unset): point it at an unzipped libtorch ' + PINNED_TORCH_VERSION + ';\n' +
    '  2. the Python torch of `' + (process.env.MOONLIGHT_PYTHON || 'python3') + '`: `pip install torch==' +
    PINNED_TORCH_VERSION + '`;\n' +
    '  3. a project-local install in ' + localInstallDir + ': run `npm run setup` to make it.'
  );
}

module.exports = {
  PINNED_TORCH_VERSION,
  FLAVOUR_TORCH_VERSIONS,
  SUPPORTED_TORCH_VERSIONS,
  LibtorchNotFoundError,
  localInstallDir,
  packageRoot,
  findLibtorch,
  ensureLibtorch,
  installLocalLibtorch,
  notFoundMessage,
  readTorchVersion,
};

if (require.main === module) {
  const found = findLibtorch();
  if (!found) {
    console.error(notFoundMessage());
    process.exit(1);
  }
  console.log(JSON.stringify(found, null, 2));
}
