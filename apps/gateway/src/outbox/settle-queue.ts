import type { OutboxEntry, PendingDocument } from './outbox.port';

interface Waiting {
  events: OutboxEntry[];
  /** One per `add`: each added document leaves the fast path once its events are settled. */
  settled: (() => void)[];
}

/**
 * The fast path's settles, run behind its publishes so that an event recorded while earlier
 * ones are being settled is published at once rather than after them. `concurrency` settles
 * run at a time, each of the up to `batch` documents waiting when it starts: at a walk one
 * document each, under load as many as are waiting. The confirmed events of one document that
 * wait together (a create and the complete that followed it) are settled in one write.
 */
export class SettleQueue {
  private readonly waiting = new Map<string, Waiting>();
  private running = 0;
  private settling = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly settle: (documents: PendingDocument[]) => Promise<void>,
    private readonly limits: { concurrency: number; batch: number },
  ) {}

  /** Documents waiting or being settled. */
  get size(): number {
    return this.waiting.size + this.settling;
  }

  add(document: PendingDocument, settled: () => void): void {
    const waiting = this.waiting.get(document.id);
    if (waiting) {
      waiting.events.push(...document.events);
      waiting.settled.push(settled);
    } else {
      this.waiting.set(document.id, { events: [...document.events], settled: [settled] });
    }
    this.next();
  }

  /** Resolves once fewer than `limit` documents are waiting or being settled. */
  async below(limit: number): Promise<void> {
    while (this.size >= limit) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private next(): void {
    while (this.running < this.limits.concurrency && this.waiting.size > 0) {
      const batch: [string, Waiting][] = [];
      for (const entry of this.waiting) {
        if (batch.length === this.limits.batch) break;
        batch.push(entry);
      }
      for (const [id] of batch) this.waiting.delete(id);
      this.running += 1;
      this.settling += batch.length;
      void this.settle(batch.map(([id, { events }]) => ({ id, events }))).finally(() => {
        this.running -= 1;
        this.settling -= batch.length;
        for (const [, { settled }] of batch) settled.forEach((leave) => leave());
        this.waiters.splice(0).forEach((wake) => wake());
        this.next();
      });
    }
  }
}
