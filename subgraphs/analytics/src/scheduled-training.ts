// A trained model's scheduled run: once an interval across every analytics process, not once in each. Each version
// reshuffles what the model serves, and the registry keeps a few versions only.
import { randomUUID } from 'node:crypto';
import type { JobLeases } from '@bank-hub/shared';

/**
 * Runs `train` when this process takes the model's lease for the interval; false when another process has it. The
 * lease is not given back, so the interval's other ticks find it held; it lapses a little before the same process's
 * next tick.
 */
export async function trainOnceAnInterval(
  leases: JobLeases,
  model: string,
  intervalMs: number,
  now: Date,
  train: () => Promise<unknown>,
): Promise<boolean> {
  if (!(await leases.acquire(model, randomUUID(), intervalMs * 0.9, now))) return false;
  await train();
  return true;
}
