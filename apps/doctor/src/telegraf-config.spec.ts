import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ANALYTICS_EVENTS_QUEUE, TELEGRAF_EVENTS_QUEUE } from '@taskit/contracts';
import { loadSettings } from './settings';
import { checkTelegrafConfig, substitute } from './telegraf-config';

const REPO = resolve(__dirname, '..', '..', '..');
const CONFIG = readFileSync(join(REPO, 'deploy', 'telegraf', 'telegraf.conf'), 'utf8');

describe('the Telegraf config check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'doctor-telegraf-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function check(text: string, env: Record<string, string> = {}) {
    const file = join(dir, 'telegraf.conf');
    writeFileSync(file, text);
    return checkTelegrafConfig(loadSettings({ ...env, TELEGRAF_CONFIG: file }, REPO));
  }

  it('substitutes ${VAR} and ${VAR:-default} as Telegraf does', () => {
    expect(substitute('${A}-${B:-b}', { A: 'a' })).toBe('a-b');
    expect(substitute('${B:-b}', { B: 'set' })).toBe('set');
  });

  it("accepts the repository's config with the services' settings", () => {
    const result = check(CONFIG);
    expect(result).toMatchObject({ ok: true });
    expect(result.detail).toContain(`queue ${TELEGRAF_EVENTS_QUEUE}`);
  });

  it('names the line of a misspelled queue, also one set through TELEGRAF_QUEUE', () => {
    const typo = CONFIG.replace(`:-${TELEGRAF_EVENTS_QUEUE}}`, ':-telegraf.taskevents}');
    const line = typo.split('\n').findIndex((l) => l.includes('telegraf.taskevents')) + 1;
    expect(check(typo).detail).toContain(`line ${line}: queue =`);
    const viaEnv = check(CONFIG, { TELEGRAF_QUEUE: ANALYTICS_EVENTS_QUEUE });
    expect(viaEnv.ok).toBe(false);
    expect(viaEnv.detail).toContain(`gives "${ANALYTICS_EVENTS_QUEUE}"`);
  });

  it('names a bucket, exchange or vhost other than the services use', () => {
    const bucket = CONFIG.replace('bucket = "${INFLUX_BUCKET}"', 'bucket = "taskit"');
    expect(check(bucket).detail).toMatch(/line \d+: bucket = "taskit" gives "taskit"/);
    const exchange = CONFIG.replace('exchange = ""', 'exchange = "taskit.event"');
    expect(check(exchange).detail).toMatch(/line \d+: exchange = "taskit.event"/);
    const vhost = check(CONFIG, { RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:5672/other' });
    expect(vhost.ok).toBe(true);
    const literal = CONFIG.replace('["${RABBITMQ_URL}"]', '["amqp://127.0.0.1:5672/staging"]');
    expect(check(literal).detail).toContain('vhost "staging", the services use "/"');
  });
});
