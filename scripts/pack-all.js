'use strict';
// `npm run pack:all [-- --out DIR] [-- --flavours cpu,cuda]`: every tarball of a release in one folder
// (default packs/):
//   moonlight-torch-<v>.tgz                     the main package, with the platform packages as
//                                               optionalDependencies (added here, at pack time: listed in
//                                               the repository's package.json they would make `npm ci`
//                                               look for packages that are not published yet);
//   moonlight-torch-linux-x64-{cpu,cuda}-<v>.tgz one prebuilt moonlight.node + build-info.json each, with
//                                               os/cpu/libc so npm installs them only where they fit, and
//                                               no install script (pnpm's no-scripts default is fine).
// The binaries come from `npm run prebuild` (prebuilds/<platform>-<flavour>/).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { packageRoot } = require('./libtorch');
const { flavours, packageName, platformKey } = require('./platform-packages');
const { prebuildsDir } = require('./prebuild');

function npmPack(dir, destination, { ignoreScripts }) {
  const args = ['pack', '--json', '--pack-destination', destination];
  if (ignoreScripts) args.push('--ignore-scripts');
  const result = spawnSync('npm', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`npm pack in ${dir} failed (exit ${result.status ?? result.signal})`);
  return path.join(destination, JSON.parse(result.stdout)[0].filename);
}

function packPlatform(flavour, manifest, outDir, staging) {
  const key = platformKey();
  const source = path.join(prebuildsDir, `${key}-${flavour}`);
  for (const file of ['moonlight.node', 'build-info.json']) {
    if (!fs.existsSync(path.join(source, file))) {
      throw new Error(`${path.join(source, file)} is missing: run \`npm run prebuild -- ${flavour}\` first`);
    }
  }
  const dir = path.join(staging, `${key}-${flavour}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(source, 'moonlight.node'), path.join(dir, 'moonlight.node'));
  fs.copyFileSync(path.join(source, 'build-info.json'), path.join(dir, 'build-info.json'));
  const [platform, cpu] = key.split('-');
  const libtorch = JSON.parse(fs.readFileSync(path.join(source, 'build-info.json'), 'utf8')).libtorchVersion;
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({
    name: packageName(flavour, key),
    version: manifest.version,
    description: `moonlight-torch's prebuilt ${flavour.toUpperCase()} binary for ${key} (libtorch ${libtorch}); ` +
      'libtorch itself comes from LIBTORCH or the Python torch at run time',
    license: manifest.license,
    os: [platform],
    cpu: [cpu],
    libc: ['glibc'],
    preferUnplugged: true,
    main: 'index.js',
    files: ['moonlight.node', 'build-info.json', 'index.js'],
  }, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'index.js'),
    "'use strict';\n// The binary and what it was built for; moonlight-torch's loader decides whether to use it.\n" +
    "module.exports = { binary: require('path').join(__dirname, 'moonlight.node'), buildInfo: require('./build-info.json') };\n");
  return npmPack(dir, outDir, { ignoreScripts: true });
}

function packMain(manifest, outDir, staging) {
  // npm pack here runs prepack (the TypeScript build) and applies "files"; then the optional
  // dependencies go into the packed package.json and it is packed again as is.
  const first = npmPack(packageRoot, staging, { ignoreScripts: false });
  const unpacked = path.join(staging, 'main');
  fs.mkdirSync(unpacked);
  const tar = spawnSync('tar', ['-xzf', first, '-C', unpacked], { stdio: 'inherit' });
  if (tar.status !== 0) throw new Error(`could not unpack ${first}`);
  const dir = path.join(unpacked, 'package');
  const packed = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  packed.optionalDependencies = Object.fromEntries(flavours.map((flavour) => [packageName(flavour), manifest.version]));
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(packed, null, 2)}\n`);
  return npmPack(dir, outDir, { ignoreScripts: true });
}

function packAll({ outDir = path.join(packageRoot, 'packs'), only = flavours } = {}) {
  const manifest = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8'));
  fs.mkdirSync(outDir, { recursive: true });
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-pack-'));
  try {
    const tarballs = { main: packMain(manifest, outDir, staging) };
    for (const flavour of only) tarballs[flavour] = packPlatform(flavour, manifest, outDir, staging);
    return tarballs;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

module.exports = { packAll };

if (require.main === module) {
  const args = process.argv.slice(2);
  const option = (name) => {
    const index = args.indexOf(name);
    return index >= 0 ? args[index + 1] : undefined;
  };
  try {
    const only = option('--flavours') ? option('--flavours').split(',') : undefined;
    const out = option('--out') ? path.resolve(option('--out')) : undefined;
    const tarballs = packAll({ outDir: out, only });
    for (const file of Object.values(tarballs)) console.log(file);
  } catch (error) {
    console.error(`moonlight-torch pack:all failed: ${error.message}`);
    process.exit(1);
  }
}
