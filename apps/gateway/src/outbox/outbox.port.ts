import type { TaskEvent } from '@taskit/contracts';

/**
 * A pending event as its document stores it: the event (docs/api.md, Events on the wire) and the W3C
 * `traceparent` of the request that recorded it, absent when that request was not traced.
 * Only the event goes in the message body; the trace context goes in its headers.
 */
export type OutboxEntry = TaskEvent & { traceparent?: string };

/** The pending events of one document whose change stored them (its `_id`, hex). */
export interface PendingDocument {
  id: string;
  events: OutboxEntry[];
}

export interface OutboxBacklog {
  events: number;
  oldestPendingAgeSeconds: number;
}

/**
 * What the relay needs from whoever owns the documents that hold the outbox (the tasks
 * module): the relay publishes, the owner reads and writes. Settling is the owner's write, so
 * it serialises it with its other writes of that document as its storage requires.
 */
export interface OutboxStore {
  /** Tells the relay of events just stored by this process (its fast path). */
  onStored(listener: (document: PendingDocument) => void): () => void;
  /**
   * Ids of documents with events recorded before `recordedBefore`, from an index, without a
   * sort of all pending documents: roughly oldest first. Ids only, so that a sweep claims
   * documents before it reads their events.
   */
  pendingIds(recordedBefore: Date, limit: number): Promise<string[]>;
  /** The pending events of these documents (those that still have any). */
  pendingEvents(ids: readonly string[]): Promise<PendingDocument[]>;
  /**
   * Removes each document's confirmed events (a subset of what was read or stored) from its
   * outbox; the relay hands it up to SETTLE_BATCH documents at a time so that they can be
   * written together. Rejects with the ids it could not settle.
   */
  settle(documents: readonly PendingDocument[]): Promise<void>;
  backlog(): Promise<OutboxBacklog>;
}

export const OUTBOX_STORE = Symbol('OUTBOX_STORE');
