// Suites: unit specs beside the code (no services), integration tests of each real backing
// service from the project's code, end-to-end tests of the running services, fault tests,
// `npm run doctor` against broken stacks.
// `npm test` runs them all through tools/stack/cli.mts, which starts the services first.
const moduleNameMapper = {
  '^@taskit/(contracts|config|observability|messaging|influx)(|/.*)$': '<rootDir>/libs/$1/src$2',
  // ts-jest rewrites `./events.ts` to `./events.js` (rewriteRelativeImportExtensions): load the source.
  '^(\\.{1,2}/.*)\\.js$': '$1',
};
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] };
const common = { testEnvironment: 'node', moduleNameMapper, transform, rootDir: __dirname };

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs}/**/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/{apps/*/test,test/e2e}/**/*.e2e-spec.ts'],
    },
    {
      ...common,
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
    },
    {
      ...common,
      displayName: 'doctor',
      testMatch: ['<rootDir>/test/doctor/**/*.doctor-spec.ts'],
    },
    {
      ...common,
      displayName: 'browser',
      testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
    },
    // `npm run chaos` only (tools/stack/cli.mts leaves it out of `npm test`).
    { ...common, displayName: 'chaos', testMatch: ['<rootDir>/test/chaos/**/*.chaos.ts'] },
  ],
  testTimeout: 60_000,
};
