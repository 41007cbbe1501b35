'use strict';
// Fetches Debian packages without root rights and unpacks them into a folder of the project's cache:
// `apt-get download` (which any user may run) followed by `dpkg-deb -x`. Nothing is installed system-wide.
// On a fresh image whose package lists are empty, the lists are first fetched into the cache with
// `apt-get update -o Dir::State::Lists=<cache>`; apt then reads them from there.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { packageRoot } = require('./libtorch');

/** The project's cache of fetched system files (git-ignored). */
const depsCacheDir = path.join(packageRoot, '.deps');
const aptTimeoutMs = 10 * 60_000;

class DebianFetchError extends Error {
  constructor(message) {
    super(message);
    this.name = 'DebianFetchError';
  }
}

function hasCommand(command, env) {
  return spawnSync('/bin/sh', ['-c', `command -v ${command}`], { stdio: 'ignore', env }).status === 0;
}

/** True where `apt-get download` and `dpkg-deb` exist (Debian, Ubuntu and their derivatives). */
function canFetchDebianPackages(env = process.env) {
  return hasCommand('apt-get', env) && hasCommand('dpkg-deb', env);
}

function aptListsOptions() {
  const lists = path.join(depsCacheDir, 'apt-lists');
  return fs.existsSync(path.join(lists, 'partial'))
    ? ['-o', `Dir::State::Lists=${lists}`, '-o', `Dir::Cache=${path.join(depsCacheDir, 'apt-cache')}`]
    : [];
}

function runApt(args, cwd) {
  return spawnSync('apt-get', ['-q', ...aptListsOptions(), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: aptTimeoutMs,
    env: { ...process.env, LC_ALL: 'C' },
  });
}

/** Fetches the package lists into the cache (no root needed); later apt calls read them from there. */
function updateListsIntoCache(log) {
  const lists = path.join(depsCacheDir, 'apt-lists');
  const cache = path.join(depsCacheDir, 'apt-cache');
  fs.mkdirSync(path.join(lists, 'partial'), { recursive: true });
  fs.mkdirSync(path.join(cache, 'archives', 'partial'), { recursive: true });
  log(`moonlight-torch: fetching Debian's package lists into ${lists}`);
  const update = runApt(['update'], depsCacheDir);
  if (update.status !== 0) {
    fs.rmSync(lists, { recursive: true, force: true });
    throw new DebianFetchError(`apt-get update into ${lists} failed: ${lastLines(update)}`);
  }
}

function lastLines(result) {
  const text = `${result.stderr || ''}\n${result.stdout || ''}`.trim();
  return text.split('\n').slice(-4).join(' | ') || `exit ${result.status ?? result.signal}`;
}

/**
 * Packages that `apt-get install --no-install-recommends` would add for `names` on this machine (apt's own
 * resolver, simulated: no root needed), as `name=version` specs.
 */
function missingDependencies(names, log) {
  let simulated = runApt(['-s', 'install', '--no-install-recommends', ...names]);
  if (simulated.status !== 0) {
    updateListsIntoCache(log);
    simulated = runApt(['-s', 'install', '--no-install-recommends', ...names]);
    if (simulated.status !== 0) throw new DebianFetchError(`apt-get cannot resolve ${names.join(' ')}: ${lastLines(simulated)}`);
  }
  return [...simulated.stdout.matchAll(/^Inst (\S+) (?:\[[^\]]*\] )?\((\S+)/gm)].map((match) => `${match[1]}=${match[2]}`);
}

/**
 * Downloads `specs` (`name` or `name=version`) and unpacks them all into `destination`, atomically: a failed
 * fetch leaves no partial folder behind. Returns `destination`.
 */
function fetchDebianPackages(specs, destination, log = console.error) {
  if (!canFetchDebianPackages()) throw new DebianFetchError('apt-get and dpkg-deb are not available on this machine');
  const staging = `${destination}.partial-${process.pid}`;
  const downloads = path.join(staging, '.debs');
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(downloads, { recursive: true });
  try {
    log(`moonlight-torch: downloading ${specs.join(' ')} (apt-get download, no root needed)`);
    let download = runApt(['download', ...specs], downloads);
    if (download.status !== 0 && aptListsOptions().length === 0) {
      updateListsIntoCache(log);
      download = runApt(['download', ...specs], downloads);
    }
    if (download.status !== 0) throw new DebianFetchError(`apt-get download ${specs.join(' ')} failed: ${lastLines(download)}`);
    for (const deb of fs.readdirSync(downloads).filter((name) => name.endsWith('.deb'))) {
      const unpack = spawnSync('dpkg-deb', ['-x', path.join(downloads, deb), staging], { encoding: 'utf8' });
      if (unpack.status !== 0) throw new DebianFetchError(`dpkg-deb -x ${deb} failed: ${lastLines(unpack)}`);
    }
    fs.rmSync(downloads, { recursive: true, force: true });
    fs.rmSync(destination, { recursive: true, force: true });
    fs.renameSync(staging, destination);
    return destination;
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

module.exports = { depsCacheDir, DebianFetchError, canFetchDebianPackages, missingDependencies, fetchDebianPackages };
