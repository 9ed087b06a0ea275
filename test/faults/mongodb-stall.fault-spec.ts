import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';
import { PrivateFerretDb } from '../support/private-ferretdb';
import { startService, type RunningProcess } from '../support/processes';

/** Longer than any answer of a healthy gateway; a scrape that waits on MongoDB never returns. */
const SCRAPE_GIVE_UP_MS = 15_000;

/**
 * A MongoDB-protocol server that keeps its connections open but stops answering (SIGSTOP):
 * `/metrics` must still answer, because the outbox backlog gauges are measured in the
 * background (outbox-metrics.ts), and say how old their last measurement is.
 */
describe('fault: MongoDB stops answering while Prometheus scrapes', () => {
  let ferretDb: PrivateFerretDb;
  let stack: IsolatedStack;
  let gateway: RunningProcess;

  beforeAll(async () => {
    ferretDb = await PrivateFerretDb.start('stall');
    stack = { ...(await createIsolatedStack('mongostall')), mongodbUri: `${ferretDb.url}/stall` };
    gateway = await startService('gateway', stack);
  }, 120_000);

  afterAll(async () => {
    ferretDb?.thaw();
    await gateway?.stop();
    await stack?.cleanup();
    await ferretDb?.stop();
  }, 60_000);

  const scrape = () =>
    fetch(`${gateway.url}/metrics`, { signal: AbortSignal.timeout(SCRAPE_GIVE_UP_MS) });

  it('answers /metrics with the last backlog and its growing measurement age', async () => {
    const before = await scrape();
    expect(before.status).toBe(200);
    expect(await before.text()).toMatch(/^taskit_outbox_backlog_events \d+$/m);

    ferretDb.freeze();
    // Past the interval of any memo: a gauge read at scrape time would query MongoDB now.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const during = await scrape();
    expect(during.status).toBe(200);
    const text = await during.text();
    expect(text).toMatch(/^taskit_outbox_backlog_events \d+$/m);
    const age = Number(/^taskit_outbox_backlog_measurement_age_seconds (\S+)$/m.exec(text)?.[1]);
    expect(age).toBeGreaterThan(5);
  }, 60_000);
});
