import { mongo } from 'mongoose';

/**
 * Task documents written straight into MongoDB (the gateway's `tasks` collection), in
 * batches of 500: for data sets larger than the API makes quickly on FerretDB.
 */
export async function insertTaskDocuments(
  mongodbUri: string,
  documents: mongo.Document[],
): Promise<void> {
  const client = new mongo.MongoClient(mongodbUri, { serverSelectionTimeoutMS: 5_000 });
  await client.connect();
  try {
    for (let i = 0; i < documents.length; i += 500) {
      await client
        .db()
        .collection('tasks')
        .insertMany(documents.slice(i, i + 500));
    }
  } finally {
    await client.close();
  }
}
