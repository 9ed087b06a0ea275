import { TASKS_COLLECTION } from '@taskit/contracts';
import { mongo } from 'mongoose';
import { errorMessage, fail, fetchWithin, pass, type Check } from './check';
import { labelOf, parseMetrics } from './metrics-text';
import { redact, type DoctorSettings } from './settings';

export interface OutboxState {
  pending: number;
  oldestAgeSeconds: number;
  failures: Record<string, number>;
  source: string;
}

async function fromMetrics(gatewayUrl: string): Promise<OutboxState> {
  const response = await fetchWithin(`${gatewayUrl}/metrics`, 3_000);
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  const samples = parseMetrics(await response.text());
  const value = (name: string) => samples.find((s) => s.name === name)?.value;
  const pending = value('taskit_outbox_backlog_events');
  if (pending === undefined) throw new Error('no taskit_outbox_backlog_events gauge');
  const failures: Record<string, number> = {};
  for (const s of samples.filter((s) => s.name === 'taskit_outbox_publish_failures_total')) {
    failures[labelOf(s.labels, 'reason')] = s.value;
  }
  return {
    pending,
    oldestAgeSeconds: value('taskit_outbox_oldest_pending_age_seconds') ?? 0,
    failures,
    source: `${gatewayUrl}/metrics`,
  };
}

/** Reads only `outbox`, `outboxPending` and `outboxSince` of the task documents. */
async function fromCollection(mongodbUri: string): Promise<OutboxState> {
  const client = new mongo.MongoClient(mongodbUri, {
    serverSelectionTimeoutMS: 3_000,
    connectTimeoutMS: 3_000,
  });
  try {
    await client.connect();
    const tasks = client.db().collection(TASKS_COLLECTION);
    let pending = 0;
    let oldest: Date | undefined;
    const cursor = tasks.find(
      { outboxPending: true },
      { projection: { _id: 0, outbox: 1, outboxSince: 1 } },
    );
    for await (const doc of cursor) {
      pending += Array.isArray(doc.outbox) ? doc.outbox.length : 0;
      const since = doc.outboxSince instanceof Date ? doc.outboxSince : undefined;
      if (since && (!oldest || since < oldest)) oldest = since;
    }
    const oldestAgeSeconds = oldest ? (Date.now() - oldest.getTime()) / 1000 : 0;
    return { pending, oldestAgeSeconds, failures: {}, source: `collection ${TASKS_COLLECTION}` };
  } finally {
    await client.close();
  }
}

/** Events pending in the outbox, the oldest one's age, and the relay's failures by reason. */
export async function checkOutbox(settings: DoctorSettings): Promise<Check> {
  let state: OutboxState | undefined;
  const errors: string[] = [];
  if (settings.gatewayUrl) {
    state = await fromMetrics(settings.gatewayUrl).catch((error: unknown) => {
      errors.push(`gateway metrics: ${errorMessage(error)}`);
      return undefined;
    });
  }
  if (!state) {
    state = await fromCollection(settings.mongodbUri).catch((error: unknown) => {
      errors.push(`${redact(settings.mongodbUri)}: ${errorMessage(error)}`);
      return undefined;
    });
  }
  if (!state) {
    return fail(
      'outbox',
      'outbox',
      `cannot read the backlog (${errors.join('; ')})`,
      'MongoDB (FerretDB) is unreachable: check MONGODB_URI, npm run services, or kubectl -n taskit get pods.',
    );
  }
  const failures = Object.entries(state.failures)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ${n}`);
  const detail =
    `${state.pending} pending, oldest ${state.oldestAgeSeconds.toFixed(1)} s` +
    `, publish failures ${failures.length ? failures.join(', ') : 'none'} (from ${state.source})`;
  if (state.pending > 0 && state.oldestAgeSeconds > settings.outboxMaxAgeSeconds) {
    return fail(
      'outbox',
      'outbox',
      detail,
      `Events have waited over ${settings.outboxMaxAgeSeconds} s: the relay cannot publish (RabbitMQ down, the exchange missing, or queues full; see the RabbitMQ checks), or no gateway is running to relay them. Next: tail .run/logs/gateway.log.`,
    );
  }
  return pass('outbox', 'outbox', detail);
}
