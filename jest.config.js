/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  setupFiles: ['<rootDir>/test/helpers/symbols.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  // The addon loads once per worker and libtorch's allocations stay with it: recycle bloated workers.
  workerIdleMemoryLimit: '1GB',
  testTimeout: 60_000,
};
