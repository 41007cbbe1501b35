'use strict';
// Builds the addon for the GPU check with plain CMake (cmake-js would fetch Node's headers from the network)
// against the torch of the machine's Python, with Node's headers and the gloo/nlohmann headers of the bundle.
// On a CUDA torch it adds what the CUDA flavour needs (toolkit, nvrtc, cuBLAS/cuSPARSE headers, NCCL) from the
// nvidia-* packages beside torch, for the architecture of the visible GPU. Writes <buildDir>/Release/moonlight.node.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { findCudaToolkit } = require('../prebuild');

const root = path.resolve(__dirname, '..', '..');

const TORCH_PROBE = `
import importlib.metadata, json, os, torch
info = {"version": torch.__version__, "cmakePrefixPath": torch.utils.cmake_prefix_path,
        "transformers": importlib.metadata.version("transformers"),
        "root": os.path.dirname(torch.__file__), "cuda": torch.version.cuda, "devices": 0, "arch": None}
if torch.cuda.is_available():
    info["devices"] = torch.cuda.device_count()
    major, minor = torch.cuda.get_device_capability(0)
    info["arch"] = f"{major}.{minor}"
    info["deviceName"] = torch.cuda.get_device_name(0)
print(json.dumps(info))
`;

/** What the Python's torch is: version, CMake path, CUDA version, visible GPUs and the first one's architecture. */
function probeTorch(python) {
  const result = spawnSync(python, ['-c', TORCH_PROBE], { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`${python} cannot import torch: ${result.stderr.slice(-2000)}`);
  return JSON.parse(result.stdout.trim().split('\n').pop());
}

function cudaDefines(torch, env) {
  const sitePackages = path.dirname(torch.root);
  const cu13 = path.join(sitePackages, 'nvidia', 'cu13');
  const toolkit = findCudaToolkit(env);
  const defines = [
    `CUDA_TOOLKIT_ROOT_DIR=${toolkit}`,
    `CUDAToolkit_ROOT=${toolkit}`,
    `CMAKE_CUDA_COMPILER=${path.join(toolkit, 'bin', 'nvcc')}`,
    `MOONLIGHT_NCCL_ROOT=${path.join(sitePackages, 'nvidia', 'nccl')}`,
  ];
  const nvrtc = path.join(cu13, 'lib', 'libnvrtc.so.13');
  if (fs.existsSync(nvrtc)) defines.push(`CUDA_nvrtc_LIBRARY=${nvrtc}`);
  if (fs.existsSync(path.join(cu13, 'include'))) defines.push(`MOONLIGHT_CUDA_HEADERS_DIR=${path.join(cu13, 'include')}`);
  return defines;
}

/**
 * Configures and builds into buildDir. Returns { binary, torch, seconds }. `nodeHeadersDir`: Node's C headers;
 * `includeDirs`: where gloo's and nlohmann-json's headers are (none when the compiler finds them itself).
 */
function buildForGpuCheck({ python, nodeHeadersDir, includeDirs, buildDir, env = process.env, log = console.error }) {
  const torch = probeTorch(python);
  const started = Date.now();
  const defines = [
    'CMAKE_BUILD_TYPE=Release',
    `CMAKE_PREFIX_PATH=${torch.cmakePrefixPath}`,
    `Torch_DIR=${path.join(torch.cmakePrefixPath, 'Torch')}`,
    `CMAKE_JS_INC=${nodeHeadersDir}`,
    `MOONLIGHT_EXTRA_INCLUDE_DIRS=${includeDirs.join(';')}`,
    `CMAKE_LIBRARY_OUTPUT_DIRECTORY=${path.join(buildDir, 'Release')}`,
    'MOONLIGHT_LIBTORCH_ROUTE=gpu-check',
    ...(torch.cuda ? cudaDefines(torch, env) : []),
  ];
  const generator = spawnSync('sh', ['-c', 'command -v ninja'], { encoding: 'utf8' }).status === 0 ? ['-G', 'Ninja'] : [];
  const buildEnv = { ...env, TORCH_CUDA_ARCH_LIST: env.TORCH_CUDA_ARCH_LIST || torch.arch || '9.0' };
  log(`moonlight-torch: building against torch ${torch.version}${torch.cuda ? ` (CUDA ${torch.cuda}, arch ${buildEnv.TORCH_CUDA_ARCH_LIST})` : ' (CPU)'}`);
  for (const args of [
    ['-S', root, '-B', buildDir, ...generator, ...defines.map((define) => `-D${define}`)],
    ['--build', buildDir, '--target', 'moonlight_addon', '--parallel', String(os.availableParallelism())],
  ]) {
    const result = spawnSync('cmake', args, { stdio: ['ignore', 'inherit', 'inherit'], env: buildEnv });
    if (result.status !== 0) throw new Error(`cmake ${args[0]} failed (exit ${result.status ?? result.signal})`);
  }
  const binary = path.join(buildDir, 'Release', 'moonlight.node');
  if (!fs.existsSync(binary)) throw new Error(`the build did not produce ${binary}`);
  return { binary, torch, seconds: (Date.now() - started) / 1000 };
}

module.exports = { buildForGpuCheck, probeTorch };
