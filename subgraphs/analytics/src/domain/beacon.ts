// Reads what the collector receives: a JSON array of events, or an object {deviceId, token?, events} (what the
// codeless snippet's beacons send). Items not even shaped like an event are set aside with their index; what each
// event says is for the tracking plan to judge.
import { parseInstant } from '@bank-hub/targeting';
import type { Channel } from '../models/event';
import { LIMITS, type Rejection, type ReportedEvent } from './events';

const CHANNELS: readonly string[] = ['APP', 'WEB', 'MINI_PROGRAM', 'PARTNER'];

export interface Beacon {
  deviceId: string | null;
  /** Shaped events, each with its index in what was sent. */
  events: { index: number; event: ReportedEvent & { channel: Channel } }[];
  malformed: (Rejection & { index: number })[];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export type BeaconReading =
  | { ok: true; beacon: Beacon }
  /**
   * NOT_A_BEACON: neither an array of events nor an object with a list of events. BATCH_LIMIT_EXCEEDED: more items
   * than a batch holds, events or not — refused whole, so that an answer listing items by index stays small.
   */
  | { ok: false; problem: 'NOT_A_BEACON' | 'BATCH_LIMIT_EXCEEDED' };

/** The beacon in `body`, or why it is not one the collector takes. */
export function readBeacon(body: unknown): BeaconReading {
  const batch = Array.isArray(body) ? { events: body } : isRecord(body) ? body : null;
  if (!batch || !Array.isArray(batch.events)) return { ok: false, problem: 'NOT_A_BEACON' };
  if (batch.events.length > LIMITS.batch) return { ok: false, problem: 'BATCH_LIMIT_EXCEEDED' };
  const beacon: Beacon = {
    deviceId: typeof batch.deviceId === 'string' ? batch.deviceId : null,
    events: [],
    malformed: [],
  };
  batch.events.forEach((item: unknown, index: number) => {
    const occurredAt =
      isRecord(item) && typeof item.occurredAt === 'string' ? parseInstant(item.occurredAt) : null;
    if (
      isRecord(item) &&
      occurredAt &&
      typeof item.id === 'string' &&
      typeof item.name === 'string' &&
      typeof item.channel === 'string' &&
      CHANNELS.includes(item.channel)
    ) {
      beacon.events.push({
        index,
        event: {
          id: item.id,
          name: item.name,
          channel: item.channel as Channel,
          occurredAt,
          properties: item.properties ?? undefined,
        },
      });
    } else {
      beacon.malformed.push({
        index,
        code: 'MALFORMED_EVENT',
        message: 'an event is an object with id, name, occurredAt (RFC 3339 with an offset) and channel',
        field: null,
      });
    }
  });
  return { ok: true, beacon };
}
