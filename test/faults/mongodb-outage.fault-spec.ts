import { createConnection, Schema, type Connection } from 'mongoose';
import { installClosedSocketGuard } from '../../apps/gateway/src/mongodb/closed-socket-guard';
import { PrivateFerretDb } from '../support/private-ferretdb';

/**
 * A Mongoose connection with the gateway's options comes back after every outage of its
 * MongoDB-protocol server (FerretDB and its PostgreSQL stopped together). Without the
 * closed-socket guard, about one 10 s outage in three left the driver's monitor waiting forever on
 * a write to a destroyed socket: the server stayed Unknown and every operation failed.
 */
describe('MongoDB outages: the driver reconnects every time', () => {
  const OUTAGES = 3;
  let ferretDb: PrivateFerretDb;
  let connection: Connection;

  beforeAll(async () => {
    installClosedSocketGuard();
    ferretDb = await PrivateFerretDb.start('outages');
    connection = await createConnection(`${ferretDb.url}/outages`, {
      serverSelectionTimeoutMS: 5_000,
      maxPoolSize: 10,
    }).asPromise();
  });

  afterAll(async () => {
    await connection?.close();
    await ferretDb?.stop();
  });

  it(`serves writes again within 15 s after each of ${OUTAGES} outages of 5 s`, async () => {
    const Counter = connection.model('Counter', new Schema({ n: Number }));
    const { _id } = await Counter.create({ n: 0 });
    let lastOk = Date.now();
    let stopped = false;
    // Eight writers, as a gateway's requests would be, so that the outage meets busy sockets.
    const writers = Array.from({ length: 8 }, async () => {
      while (!stopped) {
        try {
          await Counter.updateOne({ _id }, { $inc: { n: 1 } });
          lastOk = Date.now();
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    });
    const recoveries: number[] = [];
    try {
      for (let outage = 0; outage < OUTAGES; outage++) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await ferretDb.pause();
        await new Promise((resolve) => setTimeout(resolve, 5_000));
        await ferretDb.resume();
        const back = Date.now();
        while (lastOk < back && Date.now() - back < 20_000) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        recoveries.push(lastOk >= back ? (lastOk - back) / 1000 : Infinity);
      }
    } finally {
      stopped = true;
      await Promise.all(writers);
    }
    expect(recoveries.filter((seconds) => seconds > 15)).toEqual([]);
  }, 180_000);
});
