// The build finds libtorch in the documented order: LIBTORCH, the Python torch, the project-local install.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const discovery = require('../scripts/libtorch.js') as {
  PINNED_TORCH_VERSION: string;
  findLibtorch(env: NodeJS.ProcessEnv): { route: string; root: string; version: string; cuda: boolean } | null;
};

function fakeLibtorch(version: string, { cuda = false } = {}): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-libtorch-'));
  fs.mkdirSync(path.join(root, 'lib'));
  fs.mkdirSync(path.join(root, 'share', 'cmake', 'Torch'), { recursive: true });
  fs.writeFileSync(path.join(root, 'lib', 'libtorch.so'), '');
  if (cuda) fs.writeFileSync(path.join(root, 'lib', 'libtorch_cuda.so'), '');
  fs.writeFileSync(path.join(root, 'share', 'cmake', 'Torch', 'TorchConfig.cmake'), '');
  fs.writeFileSync(
    path.join(root, 'share', 'cmake', 'Torch', 'TorchConfigVersion.cmake'),
    `set(PACKAGE_VERSION "${version}")\n`,
  );
  return root;
}

const noPython = { MOONLIGHT_PYTHON: '/nonexistent/python3' };

test('LIBTORCH wins over every other route and reports CUDA builds', () => {
  const root = fakeLibtorch(discovery.PINNED_TORCH_VERSION, { cuda: true });
  const found = discovery.findLibtorch({ LIBTORCH: root });
  expect(found).toMatchObject({ route: 'LIBTORCH', root, version: discovery.PINNED_TORCH_VERSION, cuda: true });
});

test('a LIBTORCH that is no libtorch is an error, not a silent fallback', () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'not-libtorch-'));
  expect(() => discovery.findLibtorch({ LIBTORCH: empty })).toThrow(/is not a libtorch folder/);
});

test('a libtorch of another version is refused unless the check is bypassed', () => {
  const root = fakeLibtorch('2.9.1');
  expect(() => discovery.findLibtorch({ LIBTORCH: root })).toThrow(/libtorch 2\.9\.1 .* pinned to/);
  expect(discovery.findLibtorch({ LIBTORCH: root, MOONLIGHT_BYPASS_VERSION_CHECK: '1' })?.version).toBe('2.9.1');
});

test('the Python torch is the second route', () => {
  const python = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fake-python-')), 'python3');
  const root = fakeLibtorch(`${discovery.PINNED_TORCH_VERSION}+cpu`);
  fs.writeFileSync(python, `#!/bin/sh\necho ${root}\n`, { mode: 0o755 });
  expect(discovery.findLibtorch({ MOONLIGHT_PYTHON: python })).toMatchObject({ route: 'python', root });
});

test('without LIBTORCH and Python torch, the project-local install (if made) is used', () => {
  const found = discovery.findLibtorch(noPython);
  const local = path.join(__dirname, '..', '.libtorch', 'torch');
  if (fs.existsSync(path.join(local, 'lib', 'libtorch.so'))) {
    expect(found).toMatchObject({ route: 'local', root: local });
  } else {
    expect(found).toBeNull();
  }
});

test('the CUDA flavour pin (2.14.1) is accepted next to the CPU pin; anything else still needs the bypass', () => {
  const cudaRoot = fakeLibtorch('2.14.1+cu130', { cuda: true });
  expect(discovery.findLibtorch({ LIBTORCH: cudaRoot })).toMatchObject({ version: '2.14.1+cu130', cuda: true });
  expect(() => discovery.findLibtorch({ LIBTORCH: fakeLibtorch('2.12.0', { cuda: true }) })).toThrow(/pinned to 2\.13\.0 \(CPU\) or 2\.14\.1 \(CUDA\)/);
});

test('a prebuilt binary fits a libtorch only with the same version and, for CUDA, a CUDA libtorch', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { libtorchMismatch } = require('../scripts/platform-packages.js') as {
    libtorchMismatch(info: { libtorchVersion: string; cuda: boolean }, found: { version: string; cuda: boolean; root: string; route: string }): string | null;
  };
  const cpuTorch = { version: '2.13.0+cpu', cuda: false, root: '/t', route: 'python' };
  const cudaTorch = { version: '2.14.1', cuda: true, root: '/t', route: 'LIBTORCH' };
  expect(libtorchMismatch({ libtorchVersion: '2.13.0', cuda: false }, cpuTorch)).toBeNull();
  expect(libtorchMismatch({ libtorchVersion: '2.14.1', cuda: true }, cudaTorch)).toBeNull();
  expect(libtorchMismatch({ libtorchVersion: '2.14.1', cuda: true }, cpuTorch)).toMatch(/CUDA binary and the libtorch found \(\/t\) has no CUDA/);
  expect(libtorchMismatch({ libtorchVersion: '2.13.0', cuda: false }, cudaTorch)).toMatch(/built for libtorch 2\.13\.0, and the libtorch found is 2\.14\.1/);
});
