import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { queryInfluxQl, rowsOf, targetOfBucket } from '@taskit/influx';
import { SummaryService } from '../../apps/analytics/src/summary/summary.service';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';
import { REPO_ROOT } from '../support/test-environment';

interface Target {
  refId: string;
  datasource: { type: string };
  query?: string;
  expression?: string;
}
interface Panel {
  title: string;
  targets: Target[];
}

const DASHBOARD = join(REPO_ROOT, 'deploy', 'grafana', 'dashboards', 'taskit-events.json');
const USER = '6b07e21e530b1a4d293d6cd9';
const OTHER_USER = '6b07e21e530b1a4d293d6cda';
/** The known set of events: per type, written by both paths for USER. */
const COUNTS = {
  'task.created': 5,
  'task.completed': 3,
  'task.uncompleted': 1,
  'task.updated': 4,
  'task.deleted': 2,
};
const TOTAL = Object.values(COUNTS).reduce((a, b) => a + b, 0);

/** Points as the worker and Telegraf write them (docs/event-pipeline.md, InfluxDB schema). */
function lines(now: number): string[] {
  const out: string[] = [];
  let n = 0;
  const point = (source: string, type: string, user: string, extra = '') => {
    n += 1;
    const at = (now - 60_000 * (n % 5)) * 1_000_000 + n;
    out.push(
      `task_events,source=${source},type=${type},user_id=${user}${extra} count=1i,event_id="e${n}",task_id="t${n}" ${at}`,
    );
  };
  for (const source of ['worker', 'telegraf']) {
    for (const [type, count] of Object.entries(COUNTS)) {
      for (let i = 0; i < count; i++) point(source, type, USER);
    }
    // The doctor's probe: every panel and the summary leave it out.
    point(source, 'task.created', 'taskit-doctor-probe', ',probe=true');
  }
  return out;
}

describe('InfluxQL against the real InfluxDB: the dashboards and the summary', () => {
  let stack: IsolatedStack;
  let panels: Panel[];

  beforeAll(async () => {
    stack = await createIsolatedStack('dashboards');
    const response = await fetch(
      `${stack.influxUrl}/write?db=${encodeURIComponent(stack.influxDatabase)}&precision=ns`,
      { method: 'POST', body: lines(Date.now()).join('\n') },
    );
    expect(response.status).toBe(204);
    panels = (JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] }).panels;
  });

  afterAll(() => stack.cleanup());

  /** Each InfluxDB query of a panel, run as Grafana would over the last hour, by refId. */
  async function run(title: string) {
    const panel = panels.find((p) => p.title === title);
    if (!panel) throw new Error(`no panel "${title}"`);
    const target = targetOfBucket(stack.influxUrl, '', stack.influxBucket);
    const results: Record<string, Record<string, unknown>[]> = {};
    const expressions: Record<string, string> = {};
    for (const t of panel.targets) {
      if (t.datasource.type === '__expr__') {
        expressions[t.refId] = t.expression ?? '';
        continue;
      }
      expect(t.query).not.toMatch(/from\(bucket|\|>/); // InfluxQL, not Flux
      const query = t.query!.replaceAll('$timeFilter', 'time > now() - 1h');
      results[t.refId] = rowsOf(await queryInfluxQl(target, query));
    }
    return { results, expressions };
  }

  const sumBy = (rows: Record<string, unknown>[], key: string) => {
    const sums: Record<string, number> = {};
    for (const row of rows)
      sums[String(row[key])] = (sums[String(row[key])] ?? 0) + Number(row.sum ?? 0);
    return sums;
  };
  const single = (rows: Record<string, unknown>[]) => Number(rows[0]?.sum ?? 0);

  it('every panel is InfluxQL and has a check below', () => {
    expect(panels.map((p) => p.title).sort()).toEqual(
      [
        'Completion rate',
        'Difference worker - Telegraf (must be 0)',
        'Events per minute by type (worker)',
        'Events stored: worker vs Telegraf',
        'Worker vs Telegraf: events per minute',
      ].sort(),
    );
  });

  it('Events per minute by type (worker): the counts per type', async () => {
    const { results } = await run('Events per minute by type (worker)');
    expect(sumBy(results.A, 'type')).toEqual(COUNTS);
  });

  it('Completion rate: (completed - uncompleted) / created', async () => {
    const { results, expressions } = await run('Completion rate');
    expect(expressions).toEqual({ D: '($B - $C) / $A * 100' });
    const [a, b, c] = [single(results.A), single(results.B), single(results.C)];
    expect([a, b, c]).toEqual([5, 3, 1]);
    expect(((b - c) / a) * 100).toBe(40);
  });

  it('Worker vs Telegraf per minute: the same count in every minute', async () => {
    const { results } = await run('Worker vs Telegraf: events per minute');
    const perMinute = new Map<unknown, Record<string, number>>();
    for (const row of results.A) {
      const minute = perMinute.get(row.time) ?? {};
      minute[String(row.source)] = Number(row.sum);
      perMinute.set(row.time, minute);
    }
    expect([...perMinute.values()].filter((m) => m.worker !== m.telegraf)).toEqual([]);
    expect(sumBy(results.A, 'source')).toEqual({ worker: TOTAL, telegraf: TOTAL });
  });

  it('Events stored: worker vs Telegraf', async () => {
    const { results } = await run('Events stored: worker vs Telegraf');
    expect(sumBy(results.A, 'source')).toEqual({ worker: TOTAL, telegraf: TOTAL });
  });

  it('Difference worker - Telegraf: 0', async () => {
    const { results, expressions } = await run('Difference worker - Telegraf (must be 0)');
    expect(expressions).toEqual({ C: '$A - $B' });
    expect([single(results.A), single(results.B)]).toEqual([TOTAL, TOTAL]);
    expect(single(results.A) - single(results.B)).toBe(0);
  });

  it('the summary RPC counts the worker points of one user per type, probes and other users left out', async () => {
    const summaries = new SummaryService(targetOfBucket(stack.influxUrl, '', stack.influxBucket));
    const summary = await summaries.summary(USER, '1h');
    expect(summary.totals).toEqual({
      created: 5,
      completed: 3,
      uncompleted: 1,
      updated: 4,
      deleted: 2,
    });
    expect(summary.series).toHaveLength(12);
    expect((await summaries.summary(OTHER_USER, '1h')).totals.created).toBe(0);
    // A user id that tries to leave its string literal matches nothing.
    expect((await summaries.summary(`${USER}' OR "source" = 'worker`, '1h')).totals.created).toBe(
      0,
    );
  });
});
