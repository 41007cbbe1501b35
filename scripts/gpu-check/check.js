'use strict';
// npm run check:gpu (and, on the GPU machine, what scripts/gpu-check/run.sh starts): builds the addon against
// the machine's torch, then runs every check of scripts/gpu-check/checks.js in its own process under its time
// limit, writing the report (gpu-check.json) after each one, so that a run cut short still returns what
// finished; prints a one-screen summary at the end. The whole run keeps to a budget (8 minutes, build
// included): a check that cannot finish inside it is recorded as not run. Without a visible CUDA device it says
// so, runs nothing GPU-side and exits 0.
//   --out DIR        where gpu-check.json goes (default $OUT, else ./gpu-check-out)
//   --headers DIR    Node's and the C++ dependencies' headers (node/, include/) from the bundle
//   --python PATH    the Python with torch and transformers (default MOONLIGHT_PYTHON, /opt/torch/.venv/bin/python, python3)
//   --skip-build     use build-gpu-check/ as it is
//   --device cpu     (or MOONLIGHT_GPU_CHECK_DEVICE=cpu) build and run every check on the CPU, to prove the
//                    check itself end to end where no GPU is; limits × MOONLIGHT_GPU_CHECK_CPU_SLOWDOWN (10)
//   --only A,B       run only these checks
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..', '..');
const budgetSeconds = Number(process.env.MOONLIGHT_GPU_CHECK_BUDGET_S || 480);

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

const device = option('device', process.env.MOONLIGHT_GPU_CHECK_DEVICE || 'cuda');
const slowdown = device === 'cpu' ? Number(process.env.MOONLIGHT_GPU_CHECK_CPU_SLOWDOWN || 10) : 1;

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
  const result = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

/** One check in this process (the child side): prints its JSON result as the last line. */
async function runOne(name) {
  const { CHECKS } = require('./checks');
  const result = await CHECKS[name].run({ python: option('python', defaultPython()), device });
  console.log(JSON.stringify(result));
  process.exit(0); // a process group or a CUDA context must not hold the process open
}

function runChecks({ report, write, binary, python, deadline }) {
  const { CHECKS } = require('./checks');
  const only = option('only', null)?.split(',');
  for (const [name, check] of Object.entries(CHECKS)) {
    if (only && !only.includes(name)) continue;
    const leftSeconds = (deadline - Date.now()) / 1000;
    const limitSeconds = Math.min(check.limitSeconds * slowdown, leftSeconds);
    if (limitSeconds < 5) {
      report.checks.push({ name, part: check.part, status: 'not-run', seconds: 0, reason: 'the run budget was spent' });
      write();
      continue;
    }
    const started = Date.now();
    const child = spawnSync(process.execPath, [__filename, '--one', name, '--python', python, '--device', device], {
      encoding: 'utf8', timeout: limitSeconds * 1000, killSignal: 'SIGKILL', maxBuffer: 64 << 20,
      env: { ...process.env, MOONLIGHT_BINARY: binary, MOONLIGHT_BYPASS_VERSION_CHECK: '1', MOONLIGHT_PYTHON: python },
    });
    const seconds = (Date.now() - started) / 1000;
    let entry;
    if (child.error?.code === 'ETIMEDOUT' || child.signal) {
      entry = { name, part: check.part, status: 'timeout', seconds, limitSeconds };
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
  const started = Date.now();
  const outDir = path.resolve(option('out', process.env.OUT || path.join(root, 'gpu-check-out')));
  fs.mkdirSync(outDir, { recursive: true });
  const reportPath = path.join(outDir, 'gpu-check.json');
  const python = option('python', defaultPython());
  const report = { startedAt: new Date().toISOString(), device, node: process.version, python, checks: [] };
  const write = () => fs.writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);

  const { buildForGpuCheck, probeTorch } = require('./build');
  const torch = probeTorch(python);
  report.torch = torch;
  report.gpu = nvidiaDriver();
  write();
  if (torch.devices === 0 && device !== 'cpu') {
    report.summary = 'no CUDA device is visible: nothing GPU-side was run';
    write();
    console.error(`moonlight-torch: ${report.summary} (torch ${torch.version}${torch.cuda ? `, CUDA ${torch.cuda}` : ', CPU build'}); report in ${reportPath}`);
    return;
  }
  const buildDir = path.join(root, 'build-gpu-check');
  if (!process.argv.includes('--skip-build')) {
    const built = buildForGpuCheck({ python, buildDir, ...headers() });
    report.build = { seconds: built.seconds, versionCheckBypassed: true, note: `built against torch ${torch.version} (the CUDA flavour pins 2.14.1): MOONLIGHT_BYPASS_VERSION_CHECK=1` };
    write();
  }
  const deadline = started + budgetSeconds * slowdown * 1000;
  runChecks({ report, write, binary: path.join(buildDir, 'Release', 'moonlight.node'), python, deadline });
  const counts = report.checks.reduce((acc, c) => ({ ...acc, [c.status]: (acc[c.status] ?? 0) + 1 }), {});
  report.summary = Object.entries(counts).map(([status, n]) => `${n} ${status}`).join(', ');
  report.finishedAt = new Date().toISOString();
  report.seconds = (Date.now() - started) / 1000;
  write();
  console.error(require('./summary').summaryLines(report).join('\n'));
  console.error(`moonlight-torch: report in ${reportPath}`);
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
