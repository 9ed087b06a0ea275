import { execFile, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, RunningProcess } from './processes';
import { isPortOpen } from '../../libs/testing/src/ports';
import { RestartableServer } from './restartable-server';
import { testServices } from './test-environment';

const execFileAsync = promisify(execFile);

/** FerretDB's own settings for its PostgreSQL (tools/stack/services.mts explains each). */
const SQL_FILE = join(__dirname, '..', '..', 'tools', 'stack', 'ferretdb-postgresql.sql');
const DATABASE = 'ferretdb';
const POOL_MAX_CONNS = 40;

function postgresBin(name: string): string {
  const root = '/usr/lib/postgresql';
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  return join(root, version, 'bin', name);
}

/** initdb and postgres refuse to run as root: as root they run as the `postgres` user. */
async function runAs(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const id = async (flag: string) =>
    Number((await execFileAsync('id', [flag, 'postgres'])).stdout.trim());
  return { uid: await id('-u'), gid: await id('-g') };
}

/**
 * A PostgreSQL cluster of its own (Debian's binaries, initdb into a temporary folder, a free
 * port, trust auth), never the machine's shared server: a fault run stops it.
 */
export class PrivatePostgres extends RestartableServer {
  private constructor(
    port: number,
    dir: string,
    private readonly user: { uid: number; gid: number } | undefined,
  ) {
    super(port, dir);
  }

  static async start(label: string): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), `taskit-postgres-${label}-`));
    const user = await runAs();
    if (user) chownSync(dir, user.uid, user.gid);
    await execFileAsync(postgresBin('initdb'), ['-D', dir, '-U', 'postgres', '--auth=trust'], {
      ...user,
    });
    const server = new PrivatePostgres(await freePort(), dir, user);
    await server.resume();
    const psql = ['-h', '127.0.0.1', '-p', String(server.port), '-U', 'postgres'];
    await execFileAsync('psql', [...psql, '-d', 'postgres', '-c', `CREATE DATABASE ${DATABASE}`]);
    await execFileAsync('psql', [
      ...psql,
      '-d',
      DATABASE,
      '-v',
      'ON_ERROR_STOP=1',
      '-qf',
      SQL_FILE,
    ]);
    return server;
  }

  get ferretDbUrl(): string {
    return (
      `postgres://postgres@127.0.0.1:${this.port}/${DATABASE}` +
      `?pool_max_conns=${POOL_MAX_CONNS}&synchronous_commit=off`
    );
  }

  protected spawnServer(): RunningProcess {
    const child = spawn(
      postgresBin('postgres'),
      ['-D', this.dir, '-p', String(this.port), '-c', 'listen_addresses=127.0.0.1', '-k', this.dir],
      { ...this.user, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return new RunningProcess('private postgresql', child, this.port);
  }

  /** Accepting connections: the port opens before recovery ends ("the database system is starting up"). */
  protected async isUp(): Promise<boolean> {
    try {
      await execFileAsync(postgresBin('pg_isready'), [
        '-q',
        '-h',
        '127.0.0.1',
        '-p',
        String(this.port),
      ]);
      return true;
    } catch {
      return false;
    }
  }

  /** SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for every client). */
  protected override readonly stopSignal = 'SIGINT';
}

/**
 * A FerretDB of its own (the binary `npm test` builds into .cache/bin) on a free port, storing
 * in a private PostgreSQL, as the local stack does; `pause()` stops both (an outage of the
 * MongoDB-protocol server and its storage), `resume()` starts both with their data.
 */
export class PrivateFerretDb extends RestartableServer {
  private constructor(
    port: number,
    dir: string,
    private readonly postgres: PrivatePostgres,
  ) {
    super(port, dir);
  }

  get url(): string {
    return `mongodb://127.0.0.1:${this.port}`;
  }

  static async start(label: string): Promise<PrivateFerretDb> {
    const postgres = await PrivatePostgres.start(label);
    const dir = mkdtempSync(join(tmpdir(), `taskit-ferretdb-${label}-`));
    const server = new PrivateFerretDb(await freePort(), dir, postgres);
    await server.startFerretDb();
    return server;
  }

  override async resume(): Promise<void> {
    await this.postgres.resume();
    await this.startFerretDb();
  }

  override async pause(): Promise<void> {
    await super.pause();
    await this.postgres.pause();
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.postgres.stop();
  }

  private startFerretDb(): Promise<void> {
    return super.resume();
  }

  protected spawnServer(): RunningProcess {
    const child = spawn(
      testServices().ferretdbBinary,
      [
        '--handler=postgresql',
        `--postgresql-url=${this.postgres.ferretDbUrl}`,
        `--state-dir=${this.dir}`,
        `--listen-addr=127.0.0.1:${this.port}`,
        '--debug-addr=127.0.0.1:0',
        '--telemetry=disable',
        '--log-level=error',
      ],
      { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return new RunningProcess('private ferretdb', child, this.port);
  }

  protected isUp(): Promise<boolean> {
    return isPortOpen(this.port);
  }
}
