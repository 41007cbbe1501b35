'use strict';
// Finds the C++ headers the build needs besides libtorch's, and says which route it used:
//   nlohmann-json — header-only JSON for checkpoint headers and indexes;
//   gloo          — libtorch's ProcessGroupGloo.hpp includes gloo's headers, which the torch wheel does not
//                   ship (libtorch_cpu has gloo compiled in; only the declarations are missing).
// Routes, per header, in order:
//   1. the system: the C++ compiler finds it on its own include path (e.g. `apt-get install nlohmann-json3-dev`);
//   2. the project's cache (.deps/), filled without root rights from Debian's packages at the pinned
//      versions below (apt-get download + dpkg-deb -x), then handed to CMake as an include folder.
// gloo is found through the compiler's include path, not CMake, so the cached folder is a plain include dir.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { depsCacheDir, canFetchDebianPackages, fetchDebianPackages } = require('./debian-packages');

// Pinned: the snapshots the build is known to compile with (Debian 12's packages).
const BUILD_HEADERS = [
  {
    name: 'nlohmann-json',
    probe: '#include <nlohmann/json.hpp>\n' +
      '#if NLOHMANN_JSON_VERSION_MAJOR < 3 || (NLOHMANN_JSON_VERSION_MAJOR == 3 && NLOHMANN_JSON_VERSION_MINOR < 10)\n' +
      '#error nlohmann-json older than 3.10\n#endif\n',
    debian: { name: 'nlohmann-json3-dev', version: '3.11.2-2' },
    fedora: 'json-devel',
  },
  {
    name: 'gloo',
    probe: '#include <gloo/config.h>\n#include <gloo/context.h>\n',
    debian: { name: 'libgloo-dev', version: '0.0~git20220518.5b14351-3' },
    fedora: 'gloo-devel',
  },
];

class BuildHeadersError extends Error {
  constructor(message) {
    super(message);
    this.name = 'BuildHeadersError';
  }
}

function compilerCommand(env) {
  return env.CXX || 'c++';
}

/** True when the C++ compiler (with `includeDirs` added) preprocesses `source` without error. */
function compilerFinds(source, includeDirs, env) {
  const result = spawnSync(
    compilerCommand(env),
    ['-std=c++20', '-E', '-x', 'c++', ...includeDirs.map((dir) => `-I${dir}`), '-', '-o', '/dev/null'],
    { input: source, stdio: ['pipe', 'ignore', 'ignore'], timeout: 60_000 },
  );
  return result.status === 0;
}

function cachedIncludeDir(header) {
  return path.join(depsCacheDir, `${header.debian.name}_${header.debian.version}`.replace(/[^A-Za-z0-9._-]/g, '_'), 'usr', 'include');
}

function installHint() {
  return (
    'Install the headers system-wide, then run `npm run setup` again:\n' +
    `  Debian/Ubuntu: sudo apt-get install ${BUILD_HEADERS.map((h) => h.debian.name).join(' ')}\n` +
    `  Fedora:        sudo dnf install ${BUILD_HEADERS.map((h) => h.fedora).join(' ')}`
  );
}

/**
 * Finds (or fetches into .deps/) every header the build needs. Returns { includeDirs, routes }: the extra
 * include folders to give the compiler (none when the system has them all) and, per header, the route used.
 * `useSystem: false` always takes the pinned copies in .deps/ (for a bundle built for another machine).
 */
function ensureBuildHeaders(env = process.env, log = console.error, { useSystem = true } = {}) {
  const includeDirs = [];
  const routes = {};
  for (const header of BUILD_HEADERS) {
    if (useSystem && compilerFinds(header.probe, [], env)) {
      routes[header.name] = 'system';
      continue;
    }
    const cached = cachedIncludeDir(header);
    if (!compilerFinds(header.probe, [cached], env)) {
      if (!canFetchDebianPackages(env)) {
        throw new BuildHeadersError(`the C++ compiler (${compilerCommand(env)}) finds no ${header.name} headers and this machine has no apt-get to fetch them.\n${installHint()}`);
      }
      const spec = `${header.debian.name}=${header.debian.version}`;
      try {
        fetchDebianPackages([spec], path.dirname(path.dirname(cached)), log);
      } catch (error) {
        throw new BuildHeadersError(`the C++ compiler finds no ${header.name} headers, and fetching ${spec} without root failed: ${error.message}\n${installHint()}`);
      }
      if (!compilerFinds(header.probe, [cached], env)) {
        throw new BuildHeadersError(`${spec} was fetched into ${cached}, but the compiler still cannot use its ${header.name} headers.\n${installHint()}`);
      }
    }
    routes[header.name] = `cache (${header.debian.name} ${header.debian.version}): ${cached}`;
    includeDirs.push(cached);
  }
  for (const [name, route] of Object.entries(routes)) log(`moonlight-torch: ${name} headers via ${route}`);
  return { includeDirs: [...new Set(includeDirs)], routes };
}

module.exports = { BUILD_HEADERS, BuildHeadersError, ensureBuildHeaders };

if (require.main === module) {
  try {
    console.log(JSON.stringify(ensureBuildHeaders(), null, 2));
  } catch (error) {
    console.error(`moonlight-torch: ${error.message}`);
    process.exit(1);
  }
}
