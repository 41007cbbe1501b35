'use strict';
// npm run check:gpu (and, on the GPU machine, what scripts/gpu-check/run.sh starts): builds the addon against
// the machine's torch, then runs every check of scripts/gpu-check/checks.js in its own process under a time
// limit, writing the report (gpu-check.json) after each one, so that a run cut short still returns what
// finished. Without a visible CUDA device it says so, runs nothing GPU-side and exits 0.
//   --out DIR        where gpu-check.json goes (default $OUT, else ./gpu-check-out)
//   --headers DIR    Node's and the C++ dependencies' headers (node/, include/) from the bundle
//   --python PATH    the Python with torch and transformers (default MOONLIGHT_PYTHON, /opt/torch/.venv/bin/python, python3)
//   --skip-build     use build-gpu-check/ as it is
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..', '..');
const checkTimeLimitMs = Number(process.env.MOONLIGHT_GPU_CHECK_LIMIT_S || 120) * 1000;

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

function defaultPython() {
  const candidates = [process.env.MOONLIGHT_PYTHON, '/opt/torch/.venv/bin/python'].filter(Boolean);
  return candidates.find((candidate) => fs.existsSync(candidate)) ?? 'python3';
}

/** The bundle's headers (--headers), else this machine's Node headers and the build's usual header routes. */
function headers() {
  const bundled = option('headers', null);
  if (bundled !== null) return { nodeHeadersDir: path.join(bundled, 'node'), includeDirs: [path.join(bundled, 'include')] };
  const { ensureBuildHeaders } = require('../build-headers');
  return { nodeHeadersDir: require('./bundle').nodeHeadersDir(), includeDirs: ensureBuildHeaders().includeDirs };
}

function nvidiaDriver() {
  const result = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

/** One check in this process (the child side): prints its JSON result as the last line. */
async function runOne(name) {
  const { CHECKS } = require('./checks');
  const result = await CHECKS[name].run({ python: option('python', defaultPython()), device: process.env.MOONLIGHT_GPU_CHECK_DEVICE || 'cuda' });
  console.log(JSON.stringify(result));
}

function runChecks({ report, write, binary, python }) {
  const { CHECKS } = require('./checks');
  for (const [name, check] of Object.entries(CHECKS)) {
    const started = Date.now();
    const child = spawnSync(process.execPath, [__filename, '--one', name, '--python', python], {
      encoding: 'utf8', timeout: checkTimeLimitMs, maxBuffer: 64 << 20,
      env: { ...process.env, MOONLIGHT_BINARY: binary, MOONLIGHT_BYPASS_VERSION_CHECK: '1' },
    });
    const seconds = (Date.now() - started) / 1000;
    let entry;
    if (child.error?.code === 'ETIMEDOUT' || child.signal === 'SIGTERM') {
      entry = { name, part: check.part, status: 'timeout', seconds, limitSeconds: checkTimeLimitMs / 1000 };
    } else if (child.status !== 0) {
      entry = { name, part: check.part, status: 'failed', seconds, error: (child.stderr || '').slice(-3000) };
    } else {
      entry = { name, part: check.part, seconds, ...JSON.parse(child.stdout.trim().split('\n').pop()) };
    }
    report.checks.push(entry);
    write();
    console.error(`  ${entry.status.padEnd(7)} ${name} (${seconds.toFixed(1)} s)`);
  }
}

function main() {
  const outDir = path.resolve(option('out', process.env.OUT || path.join(root, 'gpu-check-out')));
  fs.mkdirSync(outDir, { recursive: true });
  const reportPath = path.join(outDir, 'gpu-check.json');
  const python = option('python', defaultPython());
  const report = { startedAt: new Date().toISOString(), node: process.version, python, checks: [] };
  const write = () => fs.writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);

  const { buildForGpuCheck, probeTorch } = require('./build');
  const torch = probeTorch(python);
  report.torch = torch;
  report.gpu = nvidiaDriver();
  write();
  if (torch.devices === 0) {
    report.summary = 'no CUDA device is visible: nothing GPU-side was run';
    write();
    console.error(`moonlight-torch: ${report.summary} (torch ${torch.version}${torch.cuda ? `, CUDA ${torch.cuda}` : ', CPU build'}); report in ${reportPath}`);
    return;
  }
  const buildDir = path.join(root, 'build-gpu-check');
  if (!process.argv.includes('--skip-build')) {
    const built = buildForGpuCheck({ python, buildDir, ...headers() });
    report.build = { seconds: built.seconds, versionCheckBypassed: true, note: `built against torch ${torch.version} (the CUDA flavour pins 2.14.1)` };
    write();
  }
  runChecks({ report, write, binary: path.join(buildDir, 'Release', 'moonlight.node'), python });
  const counts = report.checks.reduce((acc, c) => ({ ...acc, [c.status]: (acc[c.status] ?? 0) + 1 }), {});
  report.summary = Object.entries(counts).map(([status, n]) => `${n} ${status}`).join(', ');
  report.finishedAt = new Date().toISOString();
  write();
  console.error(`moonlight-torch: GPU check on ${torch.deviceName}: ${report.summary}; report in ${reportPath}`);
}

if (process.argv[2] === '--one') {
  runOne(process.argv[3]).catch((error) => {
    console.error(error.stack || error.message);
    process.exit(1);
  });
} else {
  try {
    main();
  } catch (error) {
    console.error(`moonlight-torch: GPU check failed: ${error.message}`);
    process.exit(1);
  }
}
