import type { PublishOutcome } from './event-publisher';
import type { OutboxEntry, PendingDocument } from './outbox.port';
import type { SettleQueue } from './settle-queue';

export interface DeliveryResult {
  published: number;
  failed: number;
}

export interface Delivery {
  publish(entry: OutboxEntry): Promise<PublishOutcome>;
  /** Called once per publish with its outcome (metrics). */
  outcome(outcome: PublishOutcome, entry: OutboxEntry): void;
  /**
   * Where confirmed documents are settled: the relay's one queue, shared by its fast path and
   * its sweep, so that together they hold at most SETTLE_CONCURRENCY MongoDB connections.
   */
  settles: Pick<SettleQueue, 'add'>;
}

/**
 * Settle commands at a time per pod, each of at most SETTLE_BATCH documents (one statement per
 * document, under those tasks' locks). One command per document spent most of the settle's
 * CPU on the command itself, in the driver and in FerretDB: eight single settles managed about
 * 450 documents a second on the local stack where two commands of eight manage about 700
 * (docs/adr/settles-behind-the-publishes.md). FerretDB 1.24 holds one PostgreSQL connection
 * per statement until the command ends, so the two hold at most 2 × 8 of its pool
 * (docs/local-stack.md).
 */
export const SETTLE_CONCURRENCY = 2;
export const SETTLE_BATCH = 8;

/**
 * Publishes the documents' events (confirms come back in order on the one channel) and returns
 * each document, in order, with the events the broker confirmed (maybe none); an event that
 * failed stays in the outbox.
 */
export async function publishDocuments(
  documents: PendingDocument[],
  delivery: Pick<Delivery, 'publish' | 'outcome'>,
): Promise<{ confirmed: PendingDocument[]; failed: number }> {
  let failed = 0;
  const confirmed = await Promise.all(
    documents.map(async (document) => {
      const outcomes = await Promise.all(document.events.map((e) => delivery.publish(e)));
      outcomes.forEach((outcome, i) => delivery.outcome(outcome, document.events[i]));
      const events = document.events.filter((_, i) => outcomes[i] === 'confirmed');
      failed += document.events.length - events.length;
      return { id: document.id, events };
    }),
  );
  return { confirmed, failed };
}

/**
 * Publishes the documents' events and settles every document whose events the broker
 * confirmed; resolves once all those settles have ended. A document whose settle failed keeps
 * its events and is published again (at-least-once).
 */
export async function deliver(
  documents: PendingDocument[],
  delivery: Delivery,
): Promise<DeliveryResult> {
  const published = await publishDocuments(documents, delivery);
  const confirmed = published.confirmed.filter((c) => c.events.length > 0);
  await Promise.all(
    confirmed.map((document) => new Promise<void>((done) => delivery.settles.add(document, done))),
  );
  return {
    published: confirmed.reduce((sum, c) => sum + c.events.length, 0),
    failed: published.failed,
  };
}
