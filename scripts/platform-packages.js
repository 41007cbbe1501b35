'use strict';
// The per-platform packages that carry prebuilt binaries (the sharp / node-llama-cpp pattern): each holds
// one moonlight.node and its build-info.json, is an optionalDependency of moonlight-torch, and declares
// os/cpu/libc so npm installs only the ones that fit. Shared by the loader (src/binary/), the install
// hook and scripts/pack-all.js so the names live in one place.
const fs = require('fs');
const path = require('path');

const scope = '@moonlight-torch';
// CUDA first: on a machine whose libtorch has CUDA, the CUDA binary is the one to try first.
const flavours = ['cuda', 'cpu'];

function platformKey(platform = process.platform, arch = process.arch) {
  return `${platform}-${arch}`;
}

function packageName(flavour, key = platformKey()) {
  return `${scope}/${key}-${flavour}`;
}

/** The installed package folder of `name` as seen from `fromDir`, or null when it is not installed. */
function installedPackageDir(name, fromDir) {
  try {
    return path.dirname(require.resolve(`${name}/package.json`, { paths: [fromDir] }));
  } catch {
    return null;
  }
}

/** { flavour, name, dir, binary, buildInfo } per flavour of this platform; dir null when not installed. */
function platformPackages(fromDir) {
  return flavours.map((flavour) => {
    const name = packageName(flavour);
    const dir = installedPackageDir(name, fromDir);
    let buildInfo = null;
    let problem = dir ? null : 'not installed';
    if (dir) {
      try {
        buildInfo = JSON.parse(fs.readFileSync(path.join(dir, 'build-info.json'), 'utf8'));
      } catch (error) {
        problem = `its build-info.json is unreadable (${error.message})`;
      }
    }
    return { flavour, name, dir, binary: dir && path.join(dir, 'moonlight.node'), buildInfo, problem };
  });
}

/** Why a binary built for `buildInfo` cannot run on `libtorch` (version or flavour), or null when it can. */
function libtorchMismatch(buildInfo, libtorch) {
  const base = (version) => String(version).split('+')[0];
  if (buildInfo.cuda && !libtorch.cuda) return `it is a CUDA binary and the libtorch found (${libtorch.root}) has no CUDA`;
  if (base(buildInfo.libtorchVersion) !== base(libtorch.version)) {
    return `it was built for libtorch ${buildInfo.libtorchVersion}, and the libtorch found is ${libtorch.version} (${libtorch.route}: ${libtorch.root})`;
  }
  return null;
}

module.exports = { scope, flavours, platformKey, packageName, platformPackages, libtorchMismatch };
