import { Schema, createConnection, type Connection } from 'mongoose';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';

interface Account {
  email: string;
  visits: number;
}

describe('MongoDB wire protocol (FerretDB) through Mongoose', () => {
  let stack: IsolatedStack;
  let connection: Connection;

  beforeAll(async () => {
    stack = await createIsolatedStack('mongo');
    connection = await createConnection(stack.mongodbUri).asPromise();
  });

  afterAll(async () => {
    await connection.close();
    await stack.cleanup();
  });

  it('writes and reads a document and enforces a unique index', async () => {
    const schema = new Schema<Account>({
      email: { type: String, required: true, unique: true },
      visits: { type: Number, default: 0 },
    });
    const Accounts = connection.model<Account>('Account', schema);
    await Accounts.init(); // builds the unique index before the writes below

    await Accounts.create({ email: 'ada@example.com' });
    await Accounts.updateOne({ email: 'ada@example.com' }, { $inc: { visits: 2 } });
    const found = await Accounts.findOne({ email: 'ada@example.com' }).lean();
    expect(found).toMatchObject({ email: 'ada@example.com', visits: 2 });

    await expect(Accounts.create({ email: 'ada@example.com' })).rejects.toMatchObject({
      code: 11000,
    });
    expect(await Accounts.countDocuments()).toBe(1);
  });
});
