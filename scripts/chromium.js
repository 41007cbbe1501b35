'use strict';
// Finds the Chromium that the browser test of the HTML report drives (test/plot-report-browser.test.ts),
// and says which route it used. Routes, in order:
//   1. MOONLIGHT_CHROMIUM: a Chromium (or Chrome) binary; set but unusable is an error, never skipped;
//   2. the system's `chromium` / `chromium-browser` / `google-chrome` on PATH;
//   3. the project's cache (.deps/chromium): Debian's chromium and the shared libraries it needs that this
//      machine lacks (apt's own resolver decides which), fetched without root rights.
// A candidate counts only if `--version` runs: a binary whose libraries are missing is no route.
// Run as a script (npm test does), it fetches route 3 when neither other route has a Chromium.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { depsCacheDir, canFetchDebianPackages, missingDependencies, fetchDebianPackages } = require('./debian-packages');

const cachedRoot = path.join(depsCacheDir, 'chromium');
const systemCommands = ['chromium', 'chromium-browser', 'google-chrome'];

class ChromiumNotFoundError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ChromiumNotFoundError';
  }
}

/** Folders under `dir` that hold shared libraries (packages keep private ones in subfolders, found by RUNPATH). */
function libraryDirs(dir) {
  if (!fs.existsSync(dir)) return [];
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  const own = entries.some((entry) => !entry.isDirectory() && /\.so(\.|$)/.test(entry.name)) ? [dir] : [];
  return [...own, ...entries.filter((entry) => entry.isDirectory()).flatMap((entry) => libraryDirs(path.join(dir, entry.name)))];
}

/** The environment a cached Chromium runs with: its own libraries first, and its fontconfig if fetched. */
function cachedEnv(env = process.env) {
  const libDirs = ['usr/lib', 'lib'].flatMap((dir) => libraryDirs(path.join(cachedRoot, dir)));
  const extra = { LD_LIBRARY_PATH: [...libDirs, env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
  const fontsConf = path.join(cachedRoot, 'etc', 'fonts', 'fonts.conf');
  if (fs.existsSync(fontsConf) && !fs.existsSync('/etc/fonts/fonts.conf')) extra.FONTCONFIG_FILE = fontsConf;
  return { ...env, ...extra };
}

function versionOf(executable, env) {
  const result = spawnSync(executable, ['--version'], { encoding: 'utf8', timeout: 30_000, env });
  return result.status === 0 ? result.stdout.trim() : null;
}

function onPath(command, env) {
  for (const dir of (env.PATH || '').split(':').filter(Boolean)) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * The Chromium to use: { executablePath, env, route, version }, or null when no route has one yet.
 * `env` is what the browser process must run with (the cached copy needs its library folders).
 */
function findChromium(env = process.env) {
  if (env.MOONLIGHT_CHROMIUM) {
    const version = versionOf(env.MOONLIGHT_CHROMIUM, env);
    if (!version) throw new ChromiumNotFoundError(`MOONLIGHT_CHROMIUM=${env.MOONLIGHT_CHROMIUM} does not run (\`--version\` failed): point it at a Chromium binary, or unset it`);
    return { executablePath: env.MOONLIGHT_CHROMIUM, env: { ...env }, route: 'MOONLIGHT_CHROMIUM', version };
  }
  for (const command of systemCommands) {
    const executable = onPath(command, env);
    const version = executable && versionOf(executable, env);
    if (version) return { executablePath: executable, env: { ...env }, route: 'system', version };
  }
  const cached = path.join(cachedRoot, 'usr', 'lib', 'chromium', 'chromium');
  if (fs.existsSync(cached)) {
    const runEnv = cachedEnv(env);
    const version = versionOf(cached, runEnv);
    if (version) return { executablePath: cached, env: runEnv, route: `cache: ${cachedRoot}`, version };
  }
  return null;
}

function installHint() {
  return 'Install Chromium (Debian: sudo apt-get install chromium; Ubuntu: sudo apt-get install chromium-browser; ' +
    'Fedora: sudo dnf install chromium), or set MOONLIGHT_CHROMIUM to a Chromium binary.';
}

/** findChromium, fetching Debian's Chromium into the cache when no route has one. */
function ensureChromium(env = process.env, log = console.error) {
  const found = findChromium(env);
  if (found) return found;
  if (!canFetchDebianPackages()) throw new ChromiumNotFoundError(`no Chromium found and no apt-get to fetch one. ${installHint()}`);
  // apt's resolver names what this machine lacks (with versions); the roots are fetched even when the
  // system has them installed (but hidden or broken).
  const roots = ['chromium', 'chromium-common'];
  const missing = missingDependencies(roots, log);
  const missingNames = new Set(missing.map((spec) => spec.split('=')[0]));
  fetchDebianPackages([...missing, ...roots.filter((name) => !missingNames.has(name))], cachedRoot, log);
  const fetched = findChromium(env);
  if (!fetched) throw new ChromiumNotFoundError(`Chromium was fetched into ${cachedRoot} but does not run. ${installHint()}`);
  return fetched;
}

module.exports = { ChromiumNotFoundError, findChromium, ensureChromium };

if (require.main === module) {
  try {
    const found = ensureChromium();
    console.error(`moonlight-torch: Chromium for the browser test via ${found.route}: ${found.executablePath} (${found.version})`);
  } catch (error) {
    console.error(`moonlight-torch: ${error.message}`);
    process.exit(1);
  }
}
