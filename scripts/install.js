'use strict';
// npm's install hook for moonlight-torch: builds the addon from source against the libtorch that
// scripts/libtorch.js finds (or installs project-locally). MOONLIGHT_SKIP_BUILD=1 skips it, e.g. for
// `npm ci` in a tree that builds later with `npm run setup`.
const { buildNative } = require('./build-native');

if (process.env.MOONLIGHT_SKIP_BUILD === '1') {
  console.error('moonlight-torch: MOONLIGHT_SKIP_BUILD=1, not building the native addon');
  process.exit(0);
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
