import { mongo } from 'mongoose';

/**
 * Gives the tasks collection of `toUri` the indexes the gateway created on that of `fromUri`
 * (its schema's, read back rather than copied, so they cannot drift): a raw baseline writing
 * into a database of its own then maintains the same indexes on every write as the gateway.
 */
export async function copyTaskIndexes(fromUri: string, toUri: string): Promise<void> {
  const from = new mongo.MongoClient(fromUri, { serverSelectionTimeoutMS: 5_000 });
  const to = new mongo.MongoClient(toUri, { serverSelectionTimeoutMS: 5_000 });
  try {
    await Promise.all([from.connect(), to.connect()]);
    const indexes = (await from.db().collection('tasks').indexes()).filter(
      (index) => index.name !== '_id_',
    );
    if (indexes.length === 0) throw new Error(`no indexes on the tasks collection of ${fromUri}`);
    await to
      .db()
      .collection('tasks')
      .createIndexes(
        indexes.map(({ key, name, unique }) => ({ key, name, ...(unique ? { unique } : {}) })),
      );
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
}
