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
