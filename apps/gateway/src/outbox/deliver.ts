import type { PublishOutcome } from './event-publisher';
import type { OutboxEntry, OutboxStore, PendingDocument } from './outbox.port';

export interface DeliveryResult {
  published: number;
  failed: number;
}

export interface Delivery {
  publish(entry: OutboxEntry): Promise<PublishOutcome>;
  store: Pick<OutboxStore, 'settle'>;
  /** Called once per publish with its outcome (metrics). */
  outcome(outcome: PublishOutcome): void;
  /** A settle that failed: the events stay in the outbox and are published again later. */
  settleFailed(id: string, error: unknown): void;
}

/** Settles at a time: each holds one task's lock and one MongoDB connection. */
const SETTLE_CONCURRENCY = 8;

/**
 * Publishes the documents' events (confirms come back in order on the one channel) and
 * settles every document whose events the broker confirmed. An event that failed stays in
 * the outbox; so does one whose settle failed (it is published again: at-least-once).
 */
export async function deliver(
  documents: PendingDocument[],
  delivery: Delivery,
): Promise<DeliveryResult> {
  const confirmed = await Promise.all(
    documents.map(async (document) => {
      const outcomes = await Promise.all(document.events.map((e) => delivery.publish(e)));
      outcomes.forEach((outcome) => delivery.outcome(outcome));
      const events = document.events.filter((_, i) => outcomes[i] === 'confirmed');
      return { id: document.id, events };
    }),
  );
  const toSettle = confirmed.filter((c) => c.events.length > 0);
  let next = 0;
  const worker = async () => {
    while (next < toSettle.length) {
      const { id, events } = toSettle[next++];
      await delivery.store.settle(id, events).catch((error: unknown) => {
        delivery.settleFailed(id, error);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(SETTLE_CONCURRENCY, toSettle.length) }, worker));
  const published = confirmed.reduce((sum, c) => sum + c.events.length, 0);
  const total = documents.reduce((sum, d) => sum + d.events.length, 0);
  return { published, failed: total - published };
}
