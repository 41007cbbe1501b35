'use strict';
// npm's install hook for moonlight-torch. With a prebuilt platform package that fits the libtorch found
// (or no libtorch yet), it does nothing: the loader (src/binary/resolve.ts) picks the binary at run time,
// and pnpm, which skips install scripts, gets the same result. Otherwise it builds the addon from source
// against the libtorch that scripts/libtorch.js finds (or installs project-locally).
//   MOONLIGHT_FORCE_BUILD=1  build from source even when a prebuilt binary fits;
//   MOONLIGHT_SKIP_BUILD=1   never build here (e.g. `npm ci` in a clone that builds with `npm run setup`).
const { buildNative } = require('./build-native');
const { findLibtorch, packageRoot } = require('./libtorch');
const { libtorchMismatch, platformPackages } = require('./platform-packages');

function prebuiltThatFits() {
  const installed = platformPackages(packageRoot).filter((pkg) => pkg.buildInfo);
  if (installed.length === 0) return null;
  let libtorch = null;
  try {
    libtorch = findLibtorch();
  } catch {
    libtorch = null;
  }
  if (!libtorch) {
    return { reason: `${installed.map((pkg) => pkg.name).join(', ')} installed; no libtorch found yet (install torch or set LIBTORCH; \`npx moonlight doctor\` checks)` };
  }
  const fit = installed.find((pkg) => libtorchMismatch(pkg.buildInfo, libtorch) === null);
  return fit ? { reason: `using the prebuilt ${fit.name} (libtorch ${libtorch.version} via ${libtorch.route})` } : null;
}

if (process.env.MOONLIGHT_SKIP_BUILD === '1') {
  console.error('moonlight-torch: MOONLIGHT_SKIP_BUILD=1, not building the native addon');
  process.exit(0);
}

if (process.env.MOONLIGHT_FORCE_BUILD !== '1') {
  const prebuilt = prebuiltThatFits();
  if (prebuilt) {
    console.error(`moonlight-torch: ${prebuilt.reason}; no build needed`);
    process.exit(0);
  }
}

try {
  buildNative();
} catch (error) {
  console.error(
    `moonlight-torch: could not build the native addon: ${error.message}\n` +
      'Fix the cause above, then run `npm rebuild moonlight-torch` (or `npm run setup` in a clone).',
  );
  process.exit(1);
}
