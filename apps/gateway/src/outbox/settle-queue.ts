import type { OutboxEntry, PendingDocument } from './outbox.port';

interface Waiting {
  events: OutboxEntry[];
  /** One per `add`: each added document leaves the fast path once its events are settled. */
  settled: (() => void)[];
}

/**
 * The fast path's settles, run behind its publishes so that an event recorded while earlier
 * ones are being settled is published at once rather than after them. `concurrency` settles
 * run at a time; the confirmed events of one document that wait together (a create and the
 * complete that followed it) are settled in one write.
 */
export class SettleQueue {
  private readonly waiting = new Map<string, Waiting>();
  private running = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly settle: (id: string, events: OutboxEntry[]) => Promise<void>,
    private readonly concurrency: number,
  ) {}

  /** Documents waiting or being settled. */
  get size(): number {
    return this.waiting.size + this.running;
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
    while (this.running < this.concurrency && this.waiting.size > 0) {
      const [id, { events, settled }] = this.waiting.entries().next().value!;
      this.waiting.delete(id);
      this.running += 1;
      void this.settle(id, events).finally(() => {
        this.running -= 1;
        settled.forEach((leave) => leave());
        this.waiters.splice(0).forEach((wake) => wake());
        this.next();
      });
    }
  }
}
