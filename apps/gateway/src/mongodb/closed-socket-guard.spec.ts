import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Socket } from 'node:net';
import { mongo } from 'mongoose';
import {
  driverConnectionClass,
  driverVersion,
  GUARDED_DRIVER_VERSION,
  installClosedSocketGuard,
  type ConnectionClass,
  type DriverConnection,
} from './closed-socket-guard';

/** A driver connection whose socket is destroyed, before the driver handled its 'close'. */
function connectionOnDestroyedSocket(Connection: ConnectionClass) {
  const socket = new Socket();
  socket.destroy();
  const connection = Object.create(Connection.prototype) as DriverConnection;
  const errors: Error[] = [];
  Object.assign(connection, {
    id: '<monitor>',
    address: '127.0.0.1:27017',
    socket,
    onError: (error: Error) => errors.push(error),
  });
  return { connection, errors };
}

const command = { toBin: () => Promise.resolve([Buffer.from('hello')]) };
const options = { agreedCompressor: 'none' };
const settledWithin = (work: Promise<unknown>, ms: number) =>
  Promise.race([
    work.then(
      () => 'resolved',
      () => 'rejected',
    ),
    new Promise((resolve) => setTimeout(() => resolve('pending'), ms)),
  ]);

describe('closed-socket guard of the MongoDB driver', () => {
  it("reproduces the driver's hang: a write to a destroyed socket never settles", async () => {
    // A copy of the class's prototype, so that the real driver stays untouched here.
    const Unguarded = { prototype: Object.create(driverConnectionClass().prototype) };
    const { connection } = connectionOnDestroyedSocket(Unguarded);
    expect(await settledWithin(connection.writeCommand(command, options), 200)).toBe('pending');
  });

  it('fails that write at once with a network error and cleans the connection up', async () => {
    const Guarded = { prototype: Object.create(driverConnectionClass().prototype) };
    installClosedSocketGuard(Guarded);
    const { connection, errors } = connectionOnDestroyedSocket(Guarded);
    await expect(connection.writeCommand(command, options)).rejects.toBeInstanceOf(
      mongo.MongoNetworkError,
    );
    expect(errors.map((e) => e.message)).toEqual([
      'connection <monitor> to 127.0.0.1:27017 closed',
    ]);
  });

  it('runs on the pinned driver only: package.json overrides mongodb to the guarded version', () => {
    expect(driverVersion()).toBe(GUARDED_DRIVER_VERSION);
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../../../package.json'), 'utf8')) as {
      overrides: Record<string, string>;
    };
    expect(pkg.overrides.mongodb).toBe(GUARDED_DRIVER_VERSION);
    const Other = { prototype: Object.create(driverConnectionClass().prototype) };
    expect(() => installClosedSocketGuard(Other, '7.8.1')).toThrow(
      /written for mongodb 7\.8\.0, found 7\.8\.1/,
    );
  });

  it('refuses to start on a driver whose writeCommand changed', () => {
    const Changed = { prototype: { writeCommand: () => Promise.resolve() } };
    expect(() => installClosedSocketGuard(Changed as unknown as ConnectionClass)).toThrow(
      /no writeCommand\(command, options\)/,
    );
  });
});
