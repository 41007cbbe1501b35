'use strict';
// `npm run prebuild [cpu|cuda …]`: the prebuilt binaries for linux-x64, one folder per flavour under
// prebuilds/ (moonlight.node + build-info.json), which scripts/pack-all.js turns into platform packages.
//   cpu  — the source build against the CPU libtorch 2.13.0 (the same build `npm run setup` makes);
//   cuda — a build against the CUDA torch wheel (2.14.1, CUDA 13) and the nvidia-* wheels that bring the
//          cuBLAS / nvrtc / NCCL headers the toolkit lacks, installed once into a cache folder
//          (MOONLIGHT_CUDA_LIBTORCH_CACHE, default ~/.cache/moonlight-torch) and reused by later runs.
// A prebuilt binary cannot carry libtorch (2 GB with CUDA; see docs on npm's size limit), so its absolute
// build-machine RUNPATH is removed: at run time src/native/ preloads the libtorch it finds (LIBTORCH or
// the Python torch) by absolute path, listed here as `libtorchLibraries` from the binary's NEEDED entries.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { buildNative } = require('./build-native');
const { FLAVOUR_TORCH_VERSIONS, findLibtorch, packageRoot, readTorchVersion } = require('./libtorch');

const prebuildsDir = path.join(packageRoot, 'prebuilds');
const platform = 'linux-x64';
// The CUDA torch wheel and the nvidia-* wheels whose headers (and nvrtc) the toolkit lacks: cuBLAS and
// nvrtc for find_package(Torch), cuSPARSE / cuSOLVER for ATen/cuda/CUDAContext.h (ProcessGroupNCCL
// includes it), NCCL for nccl.h.
const cudaWheels = [
  `torch==${FLAVOUR_TORCH_VERSIONS.cuda}`,
  'nvidia-cuda-nvrtc==13.0.88',
  'nvidia-cublas==13.1.1.3',
  'nvidia-cusparse==12.6.3.3',
  'nvidia-cusolver==12.0.4.66',
  'nvidia-nccl-cu13==2.30.7',
];
// Written last into the cache folder: the wheel list it holds, so a changed list installs afresh.
const wheelsStampName = '.moonlight-wheels';
// Ampere, Hopper and Blackwell server parts; set explicitly because detecting them needs a GPU.
const defaultCudaArchList = '8.0;9.0;10.0';
const pipTimeoutMs = 30 * 60_000;

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal}): ${result.stderr ?? ''}`);
  }
  return result.stdout;
}

/** The NEEDED entries of an ELF file (readelf from binutils, which every compiler install has). */
function neededLibraries(file) {
  const dynamic = run('readelf', ['-d', file]);
  return [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((match) => match[1]);
}

function runpathOf(file) {
  const match = /\((?:RUNPATH|RPATH)\)\s+Library (?:runpath|rpath): \[([^\]]*)\]/.exec(run('readelf', ['-d', file]));
  return match ? match[1] : '';
}

/** Copies the build's addon into prebuilds/<platform>-<flavour>/ without its RUNPATH, with its build-info. */
function stagePrebuilt(flavour, buildDir, libtorch, log) {
  const built = path.join(buildDir, 'Release', 'moonlight.node');
  const buildInfo = JSON.parse(fs.readFileSync(path.join(buildDir, 'Release', 'build-info.json'), 'utf8'));
  const outDir = path.join(prebuildsDir, `${platform}-${flavour}`);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const binary = path.join(outDir, 'moonlight.node');
  fs.copyFileSync(built, binary);
  run('cmake', [`-DFILE=${binary}`, '-P', path.join(__dirname, 'cmake', 'remove-runpath.cmake')]);
  if (runpathOf(binary) !== '') throw new Error(`${binary} still has a RUNPATH after removing it`);
  const needed = neededLibraries(binary);
  const libtorchLibraries = needed.filter((name) => fs.existsSync(path.join(libtorch.libDir, name)));
  if (flavour === 'cuda' && !needed.includes('libtorch_cuda.so')) {
    throw new Error(`${binary} does not list libtorch_cuda.so as NEEDED (${needed.join(', ')}): CUDA would vanish`);
  }
  const info = {
    flavour,
    platform,
    libtorchVersion: libtorch.version,
    cuda: buildInfo.cuda,
    nccl: buildInfo.nccl,
    napiVersion: buildInfo.napiVersion,
    libtorchLibraries,
    needed,
  };
  fs.writeFileSync(path.join(outDir, 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
  log(`moonlight-torch: prebuilt ${flavour} binary in ${outDir} (libtorch ${libtorch.version}; NEEDED ${needed.join(' ')})`);
  return { outDir, info };
}

function prebuildCpu(log) {
  const libtorch = findLibtorch();
  if (!libtorch || libtorch.cuda || libtorch.version.split('+')[0] !== FLAVOUR_TORCH_VERSIONS.cpu) {
    throw new Error(
      `the CPU flavour is built against a CPU libtorch ${FLAVOUR_TORCH_VERSIONS.cpu}; found ` +
        `${libtorch ? `${libtorch.version}${libtorch.cuda ? ' (CUDA)' : ''} at ${libtorch.root}` : 'none'}. ` +
        `Set LIBTORCH to one, or pip install torch==${FLAVOUR_TORCH_VERSIONS.cpu} for python3.`,
    );
  }
  const buildDir = path.join(packageRoot, 'build');
  buildNative({ log, libtorch, buildDir });
  return stagePrebuilt('cpu', buildDir, libtorch, log);
}

function cudaCacheDir(env) {
  const base = env.MOONLIGHT_CUDA_LIBTORCH_CACHE || path.join(os.homedir(), '.cache', 'moonlight-torch');
  return path.join(base, `cuda-${FLAVOUR_TORCH_VERSIONS.cuda}`);
}

/** The CUDA torch wheel + nvidia wheels in the cache folder, installed with pip on first use (atomically). */
function ensureCudaWheels(env, log) {
  const target = cudaCacheDir(env);
  const stamp = cudaWheels.join('\n');
  const stampFile = path.join(target, wheelsStampName);
  if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) {
    log(`moonlight-torch: CUDA wheels cached in ${target}`);
    return target;
  }
  const staging = `${target}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  log(`moonlight-torch: installing ${cudaWheels.join(' ')} into ${target} (about 2 GB, once)…`);
  const python = env.MOONLIGHT_PYTHON || 'python3';
  const pip = spawnSync(
    python,
    ['-m', 'pip', 'install', '--no-deps', '--disable-pip-version-check', '--no-input', '--retries', '1', '--target', staging,
      ...cudaWheels],
    { stdio: ['ignore', 'inherit', 'inherit'], timeout: pipTimeoutMs, env },
  );
  if (pip.status !== 0) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw new Error(`pip could not install the CUDA wheels (exit ${pip.status ?? pip.signal})`);
  }
  fs.writeFileSync(path.join(staging, wheelsStampName), stamp);
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(staging, target);
  return target;
}

function findCudaToolkit(env) {
  const candidates = [env.CUDA_HOME, env.CUDA_PATH, '/usr/local/cuda'].filter(Boolean);
  const which = spawnSync('sh', ['-c', 'command -v nvcc'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) candidates.push(path.dirname(path.dirname(fs.realpathSync(which.stdout.trim()))));
  const root = candidates.find((dir) => fs.existsSync(path.join(dir, 'bin', 'nvcc')));
  if (!root) throw new Error('the CUDA flavour needs the CUDA toolkit (nvcc): set CUDA_HOME or put nvcc on PATH');
  return root;
}

function prebuildCuda(env, log) {
  const wheels = ensureCudaWheels(env, log);
  const root = path.join(wheels, 'torch');
  const libtorch = {
    route: 'cuda-wheel',
    root,
    libDir: path.join(root, 'lib'),
    cmakePrefixPath: path.join(root, 'share', 'cmake'),
    version: readTorchVersion(root),
    cuda: true,
  };
  const toolkit = findCudaToolkit(env);
  const cu13 = path.join(wheels, 'nvidia', 'cu13');
  const buildDir = path.join(packageRoot, 'build-cuda');
  buildNative({
    log,
    libtorch,
    buildDir,
    env: { ...env, TORCH_CUDA_ARCH_LIST: env.TORCH_CUDA_ARCH_LIST || defaultCudaArchList },
    cmakeDefines: [
      `CUDA_TOOLKIT_ROOT_DIR=${toolkit}`,
      `CUDAToolkit_ROOT=${toolkit}`,
      `CMAKE_CUDA_COMPILER=${path.join(toolkit, 'bin', 'nvcc')}`,
      `CUDA_nvrtc_LIBRARY=${path.join(cu13, 'lib', 'libnvrtc.so.13')}`,
      `MOONLIGHT_CUDA_HEADERS_DIR=${path.join(cu13, 'include')}`,
      `MOONLIGHT_NCCL_ROOT=${path.join(wheels, 'nvidia', 'nccl')}`,
    ],
  });
  return stagePrebuilt('cuda', buildDir, libtorch, log);
}

function prebuild(flavours = ['cpu', 'cuda'], { env = process.env, log = console.error } = {}) {
  const results = {};
  for (const flavour of flavours) {
    const started = Date.now();
    if (flavour === 'cpu') results.cpu = prebuildCpu(log);
    else if (flavour === 'cuda') results.cuda = prebuildCuda(env, log);
    else throw new Error(`unknown flavour '${flavour}'; expected cpu or cuda`);
    log(`moonlight-torch: ${flavour} flavour took ${Math.round((Date.now() - started) / 1000)} s`);
  }
  return results;
}

module.exports = { prebuild, prebuildsDir, platform, neededLibraries, cudaCacheDir, findCudaToolkit };

if (require.main === module) {
  const started = Date.now();
  try {
    const flavours = process.argv.slice(2);
    prebuild(flavours.length ? flavours : undefined);
    console.error(`moonlight-torch: prebuild done in ${Math.round((Date.now() - started) / 1000)} s`);
  } catch (error) {
    console.error(`moonlight-torch prebuild failed: ${error.message}`);
    process.exit(1);
  }
}
