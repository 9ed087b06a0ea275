/**
 * The local stack: `up`, `down`, `services`, `status`, `test` and `doctor` (npm scripts call these).
 * Backing services already listening are reused; whatever this starts is recorded by pid
 * under .run/pids, so that `down` and the end of a test run stop exactly that.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { buildApps, LOCAL_INFLUX_DATABASE, startApps, stopApps } from './apps.mts';
import { CHROMIUM_PATH, ensureChromium, wantsBrowserTests } from './browser.mts';
import { binaryPath, ensureGoBinary } from './go-build.mts';
import { seconds, step } from './log.mts';
import { REPO_ROOT } from './paths.mts';
import { isPortOpen, runningPid, startDetached, startedNames, stopByPid } from './process.mts';
import {
  BACKING_SERVICES,
  ensureBackingService,
  ensureBackingServices,
  ensureInfluxDatabase,
  FERRETDB_POSTGRES_DATABASE,
  PORTS,
  SERVICE_URLS,
  stopBackingServices,
  TRACING_SERVICE,
} from './services.mts';
import { FERRETDB, INFLUXDB, JAEGER, TELEGRAF } from './versions.mts';

const DOCTOR_ENTRY = 'dist/apps/doctor/src/main.js';

/** Jest projects that run only on request (`npm run chaos`), never in `npm test`. */
const ON_REQUEST_PROJECTS = ['chaos'];

function selectedProjects(jestArgs: string[]): string[] | undefined {
  const index = jestArgs.findIndex(
    (arg) => arg === '--selectProjects' || arg.startsWith('--selectProjects='),
  );
  if (index === -1) return undefined;
  const arg = jestArgs[index];
  if (arg.includes('=')) return [arg.slice(arg.indexOf('=') + 1)];
  const names: string[] = [];
  for (let i = index + 1; i < jestArgs.length && !jestArgs[i].startsWith('-'); i++) {
    names.push(jestArgs[i]);
  }
  return names;
}

/**
 * Without --selectProjects, every project of jest.config.js runs except the on-request ones
 * (they start their own private servers and take minutes).
 */
function withDefaultProjects(jestArgs: string[]): string[] {
  if (selectedProjects(jestArgs) !== undefined) return jestArgs;
  if (jestArgs.some((arg) => arg.startsWith('--ignoreProjects'))) return jestArgs;
  const config = createRequire(import.meta.url)(`${REPO_ROOT}/jest.config.js`) as {
    projects: { displayName?: string }[];
  };
  const present = config.projects
    .map((project) => project.displayName)
    .filter((name): name is string => name !== undefined && ON_REQUEST_PROJECTS.includes(name));
  return [...present.map((name) => `--ignoreProjects=${name}`), ...jestArgs];
}

/** What `up` leaves to a background process because it must be built first (first run). */
const BACKGROUND = 'background';
type BackgroundWork = 'telegraf' | 'jaeger';

async function up(): Promise<void> {
  const started = Date.now();
  // Nothing optional on the way to a ready app: a Telegraf or Jaeger that must be built first
  // is built and started in the background, after `up` has returned.
  const background: BackgroundWork[] = [];
  if (runningPid('telegraf') === undefined && !existsSync(binaryPath(TELEGRAF))) {
    background.push('telegraf');
  }
  if (!existsSync(binaryPath(JAEGER)) && !(await isPortOpen(PORTS.jaeger))) {
    background.push('jaeger');
  }
  await Promise.all([
    ensureBackingServices(background.includes('jaeger') ? [TRACING_SERVICE] : []),
    buildApps(),
  ]);
  await ensureInfluxDatabase(LOCAL_INFLUX_DATABASE);
  await startApps(background.includes('telegraf') ? ['analytics', 'gateway'] : undefined);
  if (background.length > 0 && runningPid(BACKGROUND) === undefined) {
    startDetached(BACKGROUND, process.execPath, [
      join(REPO_ROOT, 'tools', 'stack', 'cli.mts'),
      BACKGROUND,
      ...background,
    ]);
  }
  step(`up in ${seconds(started)}`);
  const ferretDb =
    runningPid('ferretdb') === undefined
      ? 'the server already on that port'
      : `FerretDB on the stack's PostgreSQL ${SERVICE_URLS.postgresql}/${FERRETDB_POSTGRES_DATABASE}`;
  const traces = background.includes('jaeger')
    ? '  traces           Jaeger is being built in the background (first run only, several minutes;\n' +
      '                   progress: .run/logs/background.log); then its API answers at\n' +
      `                   ${SERVICE_URLS.jaeger}/api/traces?service=taskit-gateway`
    : `  traces (API)     ${SERVICE_URLS.jaeger}/api/traces?service=taskit-gateway\n` +
      '                   (picture: npx node tools/tracing/trace-picture.mts; docs/local-stack.md, "Traces")';
  process.stdout.write(
    [
      '',
      'Taskit is up:',
      '  web UI and API   http://127.0.0.1:3000',
      '  gateway health   http://127.0.0.1:3000/health/ready',
      '  analytics health http://127.0.0.1:3001/health/ready',
      `  MongoDB          ${SERVICE_URLS.mongodb}/taskit (${ferretDb})`,
      `  InfluxDB         ${SERVICE_URLS.influxdb} (database ${LOCAL_INFLUX_DATABASE})`,
      traces,
      ...(background.includes('telegraf')
        ? [
            '  Telegraf         being built in the background (first run only, about a minute);',
            '                   events wait for it in its queue',
          ]
        : []),
      '  logs             .run/logs/',
      'Stop it with: npm run down',
      '',
    ].join('\n'),
  );
}

/** `up`'s background part: builds and starts Telegraf, then the tracing backend. */
async function background(work: string[]): Promise<void> {
  if (work.includes('telegraf')) {
    await ensureGoBinary(TELEGRAF);
    await startApps(['telegraf']);
  }
  if (work.includes('jaeger')) await ensureBackingService(TRACING_SERVICE);
  step('background work done');
}

async function down(): Promise<void> {
  if (await stopByPid(BACKGROUND, 5_000, { group: true })) step('background build: stopped');
  await stopApps();
  await stopBackingServices(startedNames());
  step('down: everything this project started is stopped');
}

function status(): void {
  const names = ['gateway', 'analytics', 'telegraf', ...BACKING_SERVICES.map((s) => s.name)];
  for (const name of [...names, BACKGROUND]) {
    const pid = runningPid(name);
    process.stdout.write(
      `${name.padEnd(10)} ${pid === undefined ? '-' : `running (pid ${pid})`}\n`,
    );
  }
}

/** Runs Jest on the real services, then stops whatever this run had to start. */
async function test(args: string[]): Promise<number> {
  const jestArgs = withDefaultProjects(args);
  if (wantsBrowserTests(jestArgs)) await ensureChromium();
  // Built even when the shared servers on 27017/8086 are reused (someone else's): Telegraf
  // runs in the tests, and the fault tests start private FerretDB and InfluxDB instances.
  // All at once with the services: first-run builds overlap.
  const builds = Promise.all([
    ensureGoBinary(TELEGRAF),
    ensureGoBinary(FERRETDB),
    ensureGoBinary(INFLUXDB),
    buildApps(),
  ]);
  builds.catch(() => undefined);
  const started = await ensureBackingServices();
  try {
    const [telegraf, ferretdb, influxd] = await builds;
    step('running the test suites');
    return await new Promise<number>((resolveExit) => {
      const child = spawn(process.execPath, ['node_modules/jest/bin/jest.js', ...jestArgs], {
        cwd: REPO_ROOT,
        stdio: 'inherit',
        env: {
          ...process.env,
          NODE_OPTIONS: [process.env.NODE_OPTIONS, '--experimental-vm-modules']
            .filter(Boolean)
            .join(' '),
          TASKIT_TEST_MONGODB_URL: SERVICE_URLS.mongodb,
          TASKIT_TEST_REDIS_URL: SERVICE_URLS.redis,
          TASKIT_TEST_RABBITMQ_URL: SERVICE_URLS.rabbitmq,
          TASKIT_TEST_INFLUX_URL: SERVICE_URLS.influxdb,
          TASKIT_TEST_JAEGER_URL: SERVICE_URLS.jaeger,
          TASKIT_TEST_OTLP_URL: SERVICE_URLS.otlp,
          TASKIT_TELEGRAF_BIN: telegraf,
          TASKIT_FERRETDB_BIN: ferretdb,
          TASKIT_INFLUXD_BIN: influxd,
          TASKIT_CHROMIUM: CHROMIUM_PATH,
        },
      });
      child.on('close', (code, signal) => resolveExit(code ?? (signal ? 1 : 0)));
    });
  } finally {
    await stopBackingServices(started);
  }
}

/** The doctor as built into dist (and the gateway image); exit 2 when it is not built. */
async function doctor(args: string[]): Promise<number> {
  const entry = join(REPO_ROOT, DOCTOR_ENTRY);
  if (!existsSync(entry)) {
    process.stderr.write(
      `[taskit] ${DOCTOR_ENTRY} is missing: run npm run build (or npm run up) first\n`,
    );
    return 2;
  }
  return new Promise<number>((resolveExit) => {
    const child = spawn(process.execPath, [entry, ...args], { cwd: REPO_ROOT, stdio: 'inherit' });
    child.on('close', (code) => resolveExit(code ?? 2));
  });
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'up':
      return up();
    case 'down':
      return down();
    case 'services':
      await ensureBackingServices();
      return;
    case 'status':
      return status();
    case BACKGROUND:
      return background(rest);
    case 'test':
      process.exitCode = await test(rest);
      return;
    case 'doctor':
      process.exitCode = await doctor(rest);
      return;
    default:
      process.stderr.write(
        'usage: cli.mts up|down|services|status|test [jest arguments]|doctor [--json] [--probe]\n',
      );
      process.exitCode = 2;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[taskit] ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
