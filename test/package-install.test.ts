// The packed package installs into another project (a source build here) and its addon loads there
// with LD_LIBRARY_PATH unset.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const repoRoot = path.join(__dirname, '..');

test('npm pack + npm install <tarball> gives a working moonlight-torch elsewhere', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-install-'));
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: repoRoot, encoding: 'utf8' }),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const files = packed[0].files.map((f) => f.path);
  expect(files).toContain('dist/index.js');
  expect(files).toContain('dist/index.d.ts');
  expect(files).toContain('CMakeLists.txt');
  expect(files.some((f) => f.startsWith('build/') || f.startsWith('.libtorch/') || f.startsWith('test/'))).toBe(false);

  const project = path.join(work, 'app');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const env = { ...process.env };
  delete env.LD_LIBRARY_PATH;
  delete env.MOONLIGHT_BINARY;
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', path.join(work, packed[0].filename)], {
    cwd: project,
    env,
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  expect(install.stderr + install.stdout).not.toMatch(/npm error/);
  expect(install.status).toBe(0);

  const probe = spawnSync(
    process.execPath,
    ['-e', "const m=require('moonlight-torch'); console.log(m.libtorchVersion, m.cudaAvailable(), m.tensor([1,2]).add(1).toNumbers().join(','))"],
    { cwd: project, env, encoding: 'utf8' },
  );
  expect(probe.stderr).toBe('');
  expect(probe.stdout.trim()).toMatch(/^2\.13\.0 false 2,3$/);

  const info = spawnSync(path.join(project, 'node_modules', '.bin', 'moonlight'), ['info', '--json'], {
    cwd: project,
    env,
    encoding: 'utf8',
  });
  expect(info.status).toBe(0);
  expect(JSON.parse(info.stdout).addon).toContain(path.join(project, 'node_modules', 'moonlight-torch'));
}, 20 * 60_000);
