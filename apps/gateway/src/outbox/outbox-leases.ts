import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { mongo } from 'mongoose';

/** A sweep's claim on one document's outbox: `_id` is the document's id. */
export interface OutboxLease {
  _id: mongo.ObjectId;
  /** The sweep pass that holds it. */
  owner: string;
  /** The relay (pod) that holds it. */
  relay: string;
  until: Date;
}

export const OUTBOX_LEASES_COLLECTION = 'outbox_leases';

/** Claims for the relay's sweep, so that two pods' sweeps never publish one document at once. */
export interface SweepClaims {
  /** The ids of `ids` this pass now holds; the others are held by another relay. */
  claim(ids: string[]): Promise<string[]>;
  release(): Promise<void>;
}

/**
 * Leases in their own small collection (`outbox_leases`), owned by the relay: inserting a row
 * keyed by the document's id is the claim (a duplicate key means another relay holds it). A
 * crashed relay's leases expire; each relay also drops its own from a pass that was cut short
 * (its sweeps never overlap). The collection only ever holds the claims in flight, so its
 * filters are cheap even where FerretDB evaluates them in Go.
 */
export class OutboxLeases {
  readonly relay = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private pass = 0;

  constructor(
    private readonly collection: () => mongo.Collection<OutboxLease>,
    private readonly leaseMs: number,
  ) {}

  /** One sweep pass's claims. */
  forPass(): SweepClaims {
    const owner = `${this.relay}:${++this.pass}`;
    return {
      claim: (ids) => this.claim(owner, ids),
      release: async () => {
        await this.collection().deleteMany({ owner });
      },
    };
  }

  private async claim(owner: string, ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const leases = this.collection();
    const now = new Date();
    await leases.deleteMany({ $or: [{ until: { $lt: now } }, { relay: this.relay }] });
    const until = new Date(now.getTime() + this.leaseMs);
    await leases
      .insertMany(
        ids.map((id) => ({ _id: new mongo.ObjectId(id), owner, relay: this.relay, until })),
        { ordered: false },
      )
      .catch((error: Error & { code?: number; writeErrors?: unknown }) => {
        // Duplicate keys: another relay claimed some of them first.
        if (error.code !== 11000 && !error.writeErrors) throw error;
      });
    const held = await leases.find({ owner }, { projection: { _id: 1 } }).toArray();
    return held.map((lease) => lease._id.toHexString());
  }
}
