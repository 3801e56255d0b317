// What is stored, in a form two moments can be compared by: per database and collection, the number of documents
// and a digest of their contents. A rejected request must leave it unchanged.
import { createHash } from 'node:crypto';
import type { Connection } from 'mongoose';

export type StoredState = Record<string, { count: number; digest: string }>;

/** What background jobs write on their own schedule, whatever any request does: their leases. */
const BOOKKEEPING = new Set(['job_leases']);

export async function storedState(connections: Record<string, Connection>): Promise<StoredState> {
  const state: StoredState = {};
  for (const [name, connection] of Object.entries(connections)) {
    const collections = await connection.db!.listCollections({}, { nameOnly: true }).toArray();
    for (const { name: collection } of collections) {
      if (BOOKKEEPING.has(collection)) continue;
      const documents = await connection.db!.collection(collection).find({}).sort({ _id: 1 }).toArray();
      state[`${name}.${collection}`] = {
        count: documents.length,
        digest: createHash('sha256').update(JSON.stringify(documents)).digest('hex'),
      };
    }
  }
  return state;
}
