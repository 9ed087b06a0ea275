import { randomBytes } from 'node:crypto';
import { registeredClient } from '../support/api-client';
import { eventually } from '../support/eventually';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';
import {
  addCounts,
  bulkChanges,
  expectBothSources,
  insertOutboxTasks,
  metricValue,
  outboxDocuments,
  outboxState,
} from '../support/pipeline';
import { startService, startTelegraf, type RunningProcess } from '../support/processes';

const BACKLOG = 300;

describe('outbox relay: two gateway processes relaying the same outbox', () => {
  let stack: IsolatedStack;
  let gateways: RunningProcess[] = [];
  let analytics: RunningProcess;
  let telegraf: RunningProcess;

  beforeAll(async () => {
    stack = await createIsolatedStack('tworelays');
    analytics = await startService('analytics', stack);
    gateways = await Promise.all([startService('gateway', stack), startService('gateway', stack)]);
    telegraf = startTelegraf(stack);
  });

  afterAll(async () => {
    await telegraf?.stop();
    await Promise.all(gateways.map((g) => g.stop()));
    await analytics?.stop();
    await stack?.cleanup();
  });

  it('publishes every event, loses none, and both sources count each once', async () => {
    const backlogUser = randomBytes(12).toString('hex');
    // A backlog both relays find at the same time, plus live writes through each process.
    await insertOutboxTasks(stack.mongodbUri, backlogUser, BACKLOG);
    const [a, b] = await Promise.all(gateways.map((g) => registeredClient(g.url, 'relay')));
    const [userA, userB] = await Promise.all(
      [a, b].map(async (api) => (await api.get('/api/auth/me')).body.user.id as string),
    );
    const [changesA, changesB] = await Promise.all([
      bulkChanges(a, 10, 'a'),
      bulkChanges(b, 10, 'b'),
    ]);

    await expectBothSources(stack, backlogUser, { 'task.created': BACKLOG }, 90_000);
    const explain = (user: string) => async (error: Error) => {
      const docs = await outboxDocuments(stack.mongodbUri, user);
      throw new Error(
        `${error.message}\n--- task documents ---\n${JSON.stringify(docs, null, 1)}\n` +
          gateways.map((g) => g.output.slice(-2000)).join('\n---\n'),
      );
    };
    await expectBothSources(stack, userA, changesA).catch(explain(userA));
    await expectBothSources(stack, userB, changesB).catch(explain(userB));
    for (const user of [backlogUser, userA, userB]) {
      await eventually(async () => {
        expect((await outboxState(stack.mongodbUri, user)).pending).toBe(0);
      });
    }
    // Both relays took part; together they published at least every event (at-least-once).
    const published = await Promise.all(
      gateways.map((g) => metricValue(g.url, 'taskit_outbox_events_published_total')),
    );
    expect(published.every((n) => n > 0)).toBe(true);
    expect(published[0] + published[1]).toBeGreaterThanOrEqual(
      BACKLOG + Object.values(addCounts(changesA, changesB)).reduce((s, n) => s + n, 0),
    );
  }, 180_000);
});
