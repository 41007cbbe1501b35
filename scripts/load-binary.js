'use strict';
// Loads a moonlight.node whose libtorch is only known at run time (a prebuilt binary has no RUNPATH):
// first the libtorch libraries it NEEDs are dlopen'ed by absolute path with RTLD_GLOBAL, so the dynamic
// linker finds them already loaded (by SONAME) when the addon comes — as Python's torch preloads its
// global deps — and no LD_LIBRARY_PATH is needed. Node's process.dlopen is the only dlopen JS has: it
// loads the library, then throws "did not self-register" because a plain library registers no module,
// and closes it; RTLD_NODELETE keeps it mapped.
//
// `node scripts/load-binary.js <binary> <libDir> <lib,lib,…>` is the child-process test-load: it exits 0
// and prints what the addon reports, or exits non-zero with the reason, without risking the parent.
const os = require('os');
const path = require('path');

const RTLD_NODELETE = 0x1000; // glibc's value; os.constants.dlopen does not list it
const notAModule = /did not self-register|Module did not self-register/;

function preloadLibtorch(libDir, libraries) {
  const flags = os.constants.dlopen.RTLD_NOW | os.constants.dlopen.RTLD_GLOBAL | RTLD_NODELETE;
  for (const library of libraries) {
    const file = path.join(libDir, library);
    try {
      process.dlopen({ exports: {} }, file, flags);
    } catch (error) {
      if (!notAModule.test(error.message)) throw new Error(`could not load ${file}: ${error.message}`);
    }
  }
}

function loadBinary(binary, libDir, libraries) {
  if (libDir && libraries && libraries.length > 0) preloadLibtorch(libDir, libraries);
  // eslint-disable-next-line import/no-dynamic-require
  return require(binary);
}

module.exports = { loadBinary, preloadLibtorch };

if (require.main === module) {
  const [binary, libDir, list] = process.argv.slice(2);
  try {
    const addon = loadBinary(binary, libDir, list ? list.split(',').filter(Boolean) : []);
    const report = { libtorchVersion: addon.libtorchVersion, cudaAvailable: addon.cudaAvailable() };
    if (report.cudaAvailable) report.cudaDevices = addon.cudaDeviceCount();
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } catch (error) {
    process.stderr.write(`${error.message.split('\n')[0]}\n`);
    process.exit(1);
  }
}
