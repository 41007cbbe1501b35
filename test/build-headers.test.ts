// Finding what a source build and the browser test need without root rights: the routes' errors name what
// to install and how. (The fetch itself is what CI exercises: .ci/run builds and tests as an unprivileged
// user with the system's gloo / nlohmann-json headers and Chromium hidden.)
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const headers = require('../scripts/build-headers.js') as {
  BUILD_HEADERS: Array<{ name: string; debian: { name: string; version: string } }>;
  ensureBuildHeaders(env: NodeJS.ProcessEnv, log: (line: string) => void): { includeDirs: string[]; routes: Record<string, string> };
};
const chromium = require('../scripts/chromium.js') as { findChromium(env: NodeJS.ProcessEnv): { route: string } | null };

test('the build headers are pinned to the snapshots the build compiles with', () => {
  expect(headers.BUILD_HEADERS.map((h) => `${h.debian.name}=${h.debian.version}`)).toEqual([
    'nlohmann-json3-dev=3.11.2-2',
    'libgloo-dev=0.0~git20220518.5b14351-3',
  ]);
});

test('every header is found, by the system or the cache, and the route is said', () => {
  const lines: string[] = [];
  const found = headers.ensureBuildHeaders(process.env, (line) => lines.push(line));
  expect(Object.keys(found.routes).sort()).toEqual(['gloo', 'nlohmann-json']);
  for (const name of ['gloo', 'nlohmann-json']) expect(lines).toContainEqual(expect.stringContaining(`${name} headers via`));
  for (const dir of found.includeDirs) expect(fs.existsSync(dir)).toBe(true);
});

test('with no compiler that finds the headers and no apt-get, one error names the packages for Debian/Ubuntu and Fedora', () => {
  const noTools = fs.mkdtempSync(path.join(os.tmpdir(), 'no-apt-'));
  const env = { ...process.env, CXX: '/bin/false', PATH: noTools };
  expect(() => headers.ensureBuildHeaders(env, () => undefined)).toThrow(
    /finds no nlohmann-json headers and this machine has no apt-get[\s\S]*sudo apt-get install nlohmann-json3-dev libgloo-dev[\s\S]*sudo dnf install json-devel gloo-devel/,
  );
});

test('MOONLIGHT_CHROMIUM that does not run is an error, never silently replaced', () => {
  expect(() => chromium.findChromium({ ...process.env, MOONLIGHT_CHROMIUM: '/nonexistent/chromium' })).toThrow(
    /MOONLIGHT_CHROMIUM=\/nonexistent\/chromium does not run/,
  );
});
