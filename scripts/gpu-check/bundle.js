'use strict';
// npm run check:gpu:bundle — what a GPU machine with no Node.js and no network needs, besides this repository's
// tracked files (which travel with it), to build the addon against its own torch and run the GPU check:
//   gpu-bundle/node.xz          this Node.js binary, xz-compressed
//   gpu-bundle/runtime.tar.xz   dist/ (compiled here) and the production dependencies (node_modules/)
//   gpu-bundle/headers.tar.xz   Node's C headers, and the pinned gloo and nlohmann-json headers
// The transfer to that machine allows at most 8 extra paths and 64 MiB in all: both are checked here.
// Prints the one command to run there (scripts/gpu-check/run.sh).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { ensureBuildHeaders } = require('../build-headers');

const root = path.resolve(__dirname, '..', '..');
const bundleDir = path.join(root, 'gpu-bundle');
const maxBundleBytes = 64 * 1024 * 1024;
const maxBundlePaths = 8;

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
  return result;
}

/** Node's C headers (node_api.h …): beside the binary in an installed Node, else in node-gyp's cache. */
function nodeHeadersDir() {
  const candidates = [
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
    path.join(os.homedir(), '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
  ];
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, 'node_api.h')));
  if (!found) throw new Error(`no Node.js headers (node_api.h) in ${candidates.join(' or ')}`);
  return path.resolve(found);
}

/** The production dependency tree, as paths relative to the package root. */
function productionModules() {
  const result = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm ls failed: ${result.stderr}`);
  return [...new Set(result.stdout.trim().split('\n').slice(1).map((dir) => path.relative(root, dir)))].filter((dir) => dir.startsWith('node_modules'));
}

function tarXz(archive, cwd, entries) {
  run('tar', ['-cJf', archive, '-C', cwd, ...entries], {
    env: { ...process.env, XZ_OPT: `-6 -T${os.availableParallelism()}` },
  });
}

function makeBundle(log = console.error) {
  fs.rmSync(bundleDir, { recursive: true, force: true });
  fs.mkdirSync(bundleDir, { recursive: true });
  log('moonlight-torch: compiling TypeScript to dist/');
  run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json')], { cwd: root });

  log(`moonlight-torch: compressing ${process.execPath} (Node ${process.version})`);
  const nodeXz = path.join(bundleDir, 'node.xz');
  const xz = spawnSync('xz', [`-T${os.availableParallelism()}`, '-6', '-c', process.execPath], { maxBuffer: 256 << 20 });
  if (xz.status !== 0) throw new Error(`xz failed: ${xz.stderr}`);
  fs.writeFileSync(nodeXz, xz.stdout);

  log('moonlight-torch: packing dist/ and the production dependencies');
  tarXz(path.join(bundleDir, 'runtime.tar.xz'), root, ['dist', ...productionModules()]);

  // The pinned Debian copies, not this machine's system headers: the GPU machine has neither.
  const { includeDirs } = ensureBuildHeaders(process.env, log, { useSystem: false });
  const nodeHeaders = nodeHeadersDir();
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-gpu-headers-'));
  try {
    fs.mkdirSync(path.join(stage, 'headers', 'include'), { recursive: true });
    fs.cpSync(nodeHeaders, path.join(stage, 'headers', 'node'), { recursive: true });
    for (const dir of includeDirs) fs.cpSync(dir, path.join(stage, 'headers', 'include'), { recursive: true });
    tarXz(path.join(bundleDir, 'headers.tar.xz'), stage, ['headers']);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }

  const files = fs.readdirSync(bundleDir).map((name) => ({ name, bytes: fs.statSync(path.join(bundleDir, name)).size }));
  const total = files.reduce((sum, file) => sum + file.bytes, 0);
  for (const file of files) log(`  gpu-bundle/${file.name}  ${(file.bytes / 2 ** 20).toFixed(1)} MiB`);
  log(`  in all: ${files.length} files, ${(total / 2 ** 20).toFixed(1)} MiB (limits: ${maxBundlePaths} paths, ${maxBundleBytes / 2 ** 20} MiB)`);
  if (total > maxBundleBytes || files.length > maxBundlePaths) {
    throw new Error(`the bundle exceeds the transfer limits (${files.length} paths, ${total} bytes)`);
  }
  return { dir: bundleDir, files, totalBytes: total };
}

module.exports = { makeBundle, nodeHeadersDir, bundleDir, maxBundleBytes, maxBundlePaths };

if (require.main === module) {
  try {
    makeBundle();
    console.log('\nOn the GPU machine, from the repository root with gpu-bundle/ beside it (carry: ["gpu-bundle"]):');
    console.log('  bash scripts/gpu-check/run.sh        # writes gpu-check.json into $OUT (or ./gpu-check-out)');
  } catch (error) {
    console.error(`moonlight-torch: check:gpu:bundle failed: ${error.message}`);
    process.exit(1);
  }
}
