// The messages seed against a real MongoDB-wire server: what it writes without mongoose's casting is what the schema
// would have stored.
import type { Connection } from 'mongoose';
import { dropAndClose, testDatabase } from '../../../test/support/env';
import { openRepositories, type MessagesRepositories } from '../src/models';
import { seedMessages } from '../src/seed';

let connection: Connection;
let repos: MessagesRepositories;

beforeAll(async () => {
  connection = await testDatabase('messages_seed');
  repos = await openRepositories(connection);
  await seedMessages(repos, { reset: false });
});

afterAll(() => dropAndClose(connection));

it('stores every seeded consent exactly as the schema casts it, field order included', async () => {
  const stored = await repos.consents.model.collection.find({}).sort({ _id: 1 }).toArray();
  expect(stored.length).toBeGreaterThan(800);
  const cast = stored.map((consent) => new repos.consents.model(consent).toObject({ depopulate: true }));
  expect(stored).toEqual(cast);
  expect(JSON.stringify(stored)).toBe(JSON.stringify(cast));
});
