import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { mongo } from 'mongoose';

/** The part of the MongoDB driver's internal connection class the guard relies on. */
export interface DriverConnection {
  id: number | '<monitor>';
  address: string;
  socket: Socket;
  onError(error: Error): void;
  writeCommand(command: unknown, options: unknown): Promise<void>;
}

export type ConnectionClass = { prototype: DriverConnection };

/**
 * The one driver release the guard was read against; package.json's `overrides` pins it. Another
 * version stops the start-up until someone reads its Connection again (docs/adr/driver-guard.md).
 */
export const GUARDED_DRIVER_VERSION = '7.8.0';

function fromMongoose(): NodeJS.Require {
  // The driver that Mongoose loads (its own copy), not whichever `mongodb` a resolver finds.
  return createRequire(require.resolve('mongoose'));
}

export function driverVersion(): string {
  return (fromMongoose()('mongodb/package.json') as { version: string }).version;
}

export function driverConnectionClass(): ConnectionClass {
  return (fromMongoose()('mongodb/lib/cmap/connection') as { Connection: ConnectionClass })
    .Connection;
}

/** Prototypes already guarded (installing twice would wrap twice). */
const guarded = new WeakSet<object>();

/**
 * Works around a hang in the MongoDB Node driver (7.8.0, unchanged in 7.9.1) that left a
 * gateway without MongoDB for good after the server restarted (docs/adr/driver-guard.md).
 *
 * `Connection.writeCommand` writes to the socket and, when `socket.write` returns false, waits
 * for 'drain' or 'error'. A socket that is already destroyed, while the driver has not yet
 * handled its 'close', returns false and emits neither, so the wait never ends. When the
 * command is the server monitor's heartbeat, the monitor stays "monitoring" forever: the server
 * stays Unknown and every operation fails server selection, while a new client connects at once.
 * Seen in `test/faults/mongodb-outage.fault-spec.ts` about once in three outages, with the
 * socket `destroyed`, the connection not yet `closed`, `write` returning false.
 *
 * The guard fails such a write at once, as the driver does for a socket that closes while it
 * reads: the connection is cleaned up with a network error, and the monitor reconnects.
 */
export function installClosedSocketGuard(
  Connection: ConnectionClass = driverConnectionClass(),
  version: string = driverVersion(),
): void {
  if (guarded.has(Connection.prototype)) return;
  if (version !== GUARDED_DRIVER_VERSION) {
    throw new Error(
      `closed-socket guard: written for mongodb ${GUARDED_DRIVER_VERSION}, found ${version}: ` +
        'check whether the hang is fixed or the guard still fits (docs/adr/driver-guard.md)',
    );
  }
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its connection below
  const writeCommand = Connection.prototype.writeCommand;
  // A driver without this method changed its internals: fail at start, not at the next outage.
  if (typeof writeCommand !== 'function' || writeCommand.length !== 2) {
    throw new Error(
      'closed-socket guard: the MongoDB driver has no writeCommand(command, options)',
    );
  }
  Connection.prototype.writeCommand = function guardedWriteCommand(
    this: DriverConnection,
    command: unknown,
    options: unknown,
  ): Promise<void> {
    if (this.socket.destroyed) {
      const error = new mongo.MongoNetworkError(`connection ${this.id} to ${this.address} closed`);
      this.onError(error);
      return Promise.reject(error);
    }
    return writeCommand.call(this, command, options);
  };
  guarded.add(Connection.prototype);
}
