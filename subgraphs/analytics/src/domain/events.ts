// Checks one reported event against the tracking plan and the ingestion limits, before anything is stored. A problem
// names the input field at fault and carries a stable code the batch answer reports by the event's index.
import { CLIENT_ID } from '@bank-hub/shared';
import type { PropertyType, TrackedEventDoc } from '../models/tracking-plan';

export type RejectionCode =
  | 'MALFORMED_EVENT'
  | 'UNKNOWN_EVENT'
  | 'INVALID_PROPERTY'
  | 'PROPERTY_TOO_LARGE'
  | 'INVALID_ID'
  | 'INVALID_TIME'
  | 'BATCH_LIMIT_EXCEEDED'
  | 'RATE_LIMITED';

export interface Rejection {
  code: RejectionCode;
  message: string;
  field: string | null;
}

export interface ReportedEvent {
  id: string;
  name: string;
  occurredAt: Date;
  properties?: unknown;
}

export const LIMITS = {
  /** Events in one batch. */
  batch: 100,
  /** Properties on one event. */
  properties: 20,
  /** Characters of one string property (or of one value of a STRING_MAP). */
  string: 500,
  /** Bytes of an event's properties, encoded as JSON. */
  propertiesBytes: 4_096,
  /** How far ahead of the server's clock a device's clock may run. */
  futureMs: 10 * 60_000,
  /** How late an event may arrive (a phone offline for a while still reports). */
  pastMs: 7 * 24 * 3_600_000,
  /**
   * How late a hub service's event may arrive: services queue theirs while analytics is down, and their clocks are the
   * hub's, so an outage longer than a device's week still loses no completed flow (and its reward) nor delivery.
   */
  servicePastMs: 90 * 24 * 3_600_000,
} as const;

const ID_VALUE = /^\S{1,128}$/;
/** Keys of a STRING_MAP (e.g. data-* attributes): plain names, nothing MongoDB or JavaScript treats specially. */
const MAP_KEY = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

const reject = (code: RejectionCode, message: string, field: string | null = null): Rejection => ({
  code,
  message,
  field,
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeProblem(type: PropertyType, value: unknown): string | null {
  switch (type) {
    case 'STRING':
      return typeof value === 'string' ? null : 'a string';
    case 'NUMBER':
      return typeof value === 'number' && Number.isFinite(value) ? null : 'a finite number';
    case 'BOOLEAN':
      return typeof value === 'boolean' ? null : 'true or false';
    case 'ID':
      return typeof value === 'string' && ID_VALUE.test(value)
        ? null
        : 'an id (1 to 128 characters, no spaces)';
    case 'STRING_MAP':
      return isRecord(value) &&
        Object.keys(value).length <= LIMITS.properties &&
        Object.entries(value).every(([key, entry]) => MAP_KEY.test(key) && typeof entry === 'string')
        ? null
        : `an object of at most ${LIMITS.properties} string values under plain keys`;
  }
}

const tooLong = (value: unknown): boolean =>
  (typeof value === 'string' && value.length > LIMITS.string) ||
  (isRecord(value) && Object.values(value).some(tooLong));

/** The event's properties, checked against its definition; or why it cannot be stored. */
export function checkEvent(
  event: ReportedEvent,
  definition: TrackedEventDoc | undefined,
  now: Date,
  pastMs: number = LIMITS.pastMs,
): { ok: true; properties: Record<string, unknown> } | { ok: false; rejection: Rejection } {
  const fail = (rejection: Rejection) => ({ ok: false as const, rejection });
  if (!CLIENT_ID.test(event.id)) return fail(reject('INVALID_ID', 'the event id is not a client id', 'id'));
  if (!definition)
    return fail(reject('UNKNOWN_EVENT', `"${event.name.slice(0, 64)}" is not in the tracking plan`, 'name'));
  const offset = event.occurredAt.getTime() - now.getTime();
  if (offset > LIMITS.futureMs || -offset > pastMs)
    return fail(reject('INVALID_TIME', 'occurredAt is too far in the future or too old', 'occurredAt'));
  const properties = event.properties ?? {};
  if (!isRecord(properties))
    return fail(reject('INVALID_PROPERTY', 'properties must be an object', 'properties'));
  const names = Object.keys(properties);
  if (
    names.length > LIMITS.properties ||
    Buffer.byteLength(JSON.stringify(properties)) > LIMITS.propertiesBytes
  )
    return fail(
      reject(
        'PROPERTY_TOO_LARGE',
        `at most ${LIMITS.properties} properties of ${LIMITS.propertiesBytes} bytes`,
        'properties',
      ),
    );
  for (const name of names) {
    const property = definition.properties.find((candidate) => candidate.name === name);
    if (!property)
      return fail(
        reject(
          'INVALID_PROPERTY',
          `${definition._id} has no property ${name.slice(0, 64)}`,
          `properties.${name.slice(0, 64)}`,
        ),
      );
    const value = properties[name];
    if (value === null || value === undefined) continue;
    const expected = typeProblem(property.type, value);
    if (expected)
      return fail(reject('INVALID_PROPERTY', `${name} must be ${expected}`, `properties.${name}`));
    if (tooLong(value))
      return fail(
        reject(
          'PROPERTY_TOO_LARGE',
          `${name} is longer than ${LIMITS.string} characters`,
          `properties.${name}`,
        ),
      );
  }
  for (const property of definition.properties) {
    // Own properties only: a required `constructor` or `toString` is not satisfied by Object.prototype's.
    const value = Object.hasOwn(properties, property.name) ? properties[property.name] : undefined;
    if (property.required && (value === null || value === undefined))
      return fail(reject('INVALID_PROPERTY', `${property.name} is required`, `properties.${property.name}`));
  }
  // Every name is one the plan defines (plain names only), so nothing here can reach an object's prototype.
  const stored = Object.fromEntries(
    names
      .filter((name) => properties[name] !== null && properties[name] !== undefined)
      .map((name) => [name, properties[name]]),
  );
  return { ok: true, properties: stored };
}

export const batchLimitExceeded = (): Rejection =>
  reject('BATCH_LIMIT_EXCEEDED', `a batch holds at most ${LIMITS.batch} events`);

export const rateLimited = (limitedBy: 'device' | 'member'): Rejection =>
  reject('RATE_LIMITED', `too many events from this ${limitedBy} this minute`);

/**
 * The recorder of completed flow sessions: products records a flow_completed for each (through the service door),
 * the count that holds when an app also sends its own.
 */
export const PRODUCTS_SERVICE = 'svc.products';

/** The recorder of what members did with their messages (message_open, message_click): the count that holds. */
export const MESSAGES_SERVICE = 'svc.messages';

/**
 * The stored id of a device's event, its idempotency key: `<device>:<id>` when neither has a colon, as every id the
 * snippet makes, so replays of events stored so far are still known. A colon in either would let two devices' events
 * share a key (`a:b` + `c` and `a` + `b:c`), one dropped as the other's repeat; those are keyed
 * `<length of device>#<device>:<id>` instead, which no two pairs share and, with a `#` no id may hold, no old key.
 */
export function storedEventId(deviceId: string, eventId: string): string {
  if (!deviceId.includes(':') && !eventId.includes(':')) return `${deviceId}:${eventId}`;
  return `${deviceId.length}#${deviceId}:${eventId}`;
}
