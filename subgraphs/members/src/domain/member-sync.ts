// What the bank's core banking and CRM systems hand members about a customer (upsertMembers): the profile they own,
// checked field by field, which of it is newer than what is stored, and the member a customer seen for the first time
// becomes.
import { isDeepStrictEqual } from 'node:util';
import { InputProblem, isTimeZone, matching, requiredText, visibleText } from '@bank-hub/shared';
import type { MemberDoc, RiskLevel, SyncedAsOf, TagValue } from '../models/member';
import type { MembershipLevelDoc } from '../models/membership-level';
import { withAumBand } from './computed-tags';
import { fitsTagLimit } from './tags';

/** Members one call hands over at most: a page of a system's export, as applyLifecycle takes a page of results. */
export const MAX_SYNC_MEMBERS = 500;

/** The age groups segments and affinity keys compare with (`attr.ageGroup`); any other would match no rule. */
export const AGE_GROUPS = ['18-24', '25-34', '35-44', '45-54', '55-64', '65+'] as const;

const RISK_LEVELS: ReadonlySet<string> = new Set<RiskLevel>(['R1', 'R2', 'R3', 'R4', 'R5']);

/** A mobile number as the bank's systems store it: digits, perhaps after a country code's +. */
const PHONE = /^\+?[0-9]{6,20}$/;
/** A national ID or passport number. */
const ID_NUMBER = /^[A-Za-z0-9]{5,32}$/;
/** The earliest instant the hub takes from a system: older dates are a system's placeholder, not a customer's. */
const EARLIEST_INSTANT = new Date('1900-01-01T00:00:00Z');
/** How far ahead of the hub's clock a system's clock may run: an instant later than that has not happened. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** One member as a bank system gives it: fields left out (or null) stay as stored. */
export interface MemberSyncInput {
  id: string;
  /** When the system's record was taken (its change time): a stored value from a later record is not replaced. */
  asOf: Date;
  name?: string | null;
  phone?: string | null;
  idNumber?: string | null;
  registeredAt?: Date | null;
  riskLevel?: string | null;
  city?: string | null;
  ageGroup?: string | null;
  timeZone?: string | null;
  phoneVerified?: boolean | null;
  fiveGCapable?: boolean | null;
  tags?: readonly { code: string; value: unknown }[] | null;
}

/** The profile fields of one input that passed their checks, by their path in the member document. */
export type SyncedFields = Partial<{
  'personal.name': string;
  'personal.phone': string;
  'personal.idNumber': string;
  registeredAt: Date;
  riskLevel: RiskLevel;
  'attributes.city': string;
  'attributes.ageGroup': string;
  'contact.timeZone': string;
  'contact.phoneVerified': boolean;
  'contact.fiveGCapable': boolean;
}>;

/** The name in MemberSyncInput of each profile field, by its path in the member document: how stamps and results say it. */
export const SYNCED_FIELD_NAMES = {
  'personal.name': 'name',
  'personal.phone': 'phone',
  'personal.idNumber': 'idNumber',
  registeredAt: 'registeredAt',
  riskLevel: 'riskLevel',
  'attributes.city': 'city',
  'attributes.ageGroup': 'ageGroup',
  'contact.timeZone': 'timeZone',
  'contact.phoneVerified': 'phoneVerified',
  'contact.fiveGCapable': 'fiveGCapable',
} as const satisfies Record<keyof Required<SyncedFields>, string>;

/** An instant a system gives, checked: from 1900 to the hub's now and the clocks apart. */
function checkedInstant(value: Date, field: string, now: Date): Date {
  const time = value.getTime();
  if (!(time >= EARLIEST_INSTANT.getTime() && time <= now.getTime() + CLOCK_SKEW_MS))
    throw new InputProblem(field, `${field} must be from 1900 to now`);
  return value;
}

/** When the system's record of `input` was taken, checked: a record from the future would outrank every real one. */
export const syncAsOf = (input: Pick<MemberSyncInput, 'asOf'>, at: string, now: Date): Date =>
  checkedInstant(input.asOf, `${at}.asOf`, now);

/**
 * The given profile fields of `input`, checked; an InputProblem names the first field at fault (`at` is where the
 * input stands in the call, e.g. members[3]). Text a member or operator reads holds no hidden characters.
 */
export function syncedFields(input: MemberSyncInput, at: string, now: Date): SyncedFields {
  const fields: SyncedFields = {};
  const given = <T>(value: T | null | undefined): value is T => value !== null && value !== undefined;
  if (given(input.name)) fields['personal.name'] = requiredText(input.name, `${at}.name`, 100);
  if (given(input.phone))
    fields['personal.phone'] = matching(
      input.phone,
      PHONE,
      `${at}.phone`,
      '6 to 20 digits, perhaps after a +',
    );
  if (given(input.idNumber))
    fields['personal.idNumber'] = matching(
      input.idNumber,
      ID_NUMBER,
      `${at}.idNumber`,
      '5 to 32 letters or digits',
    );
  if (given(input.registeredAt))
    fields.registeredAt = checkedInstant(input.registeredAt, `${at}.registeredAt`, now);
  if (given(input.riskLevel)) {
    if (!RISK_LEVELS.has(input.riskLevel))
      throw new InputProblem(`${at}.riskLevel`, `${at}.riskLevel must be R1 to R5`);
    fields.riskLevel = input.riskLevel as RiskLevel;
  }
  if (given(input.city)) fields['attributes.city'] = requiredText(input.city, `${at}.city`, 64);
  if (given(input.ageGroup)) {
    if (!(AGE_GROUPS as readonly string[]).includes(input.ageGroup))
      throw new InputProblem(`${at}.ageGroup`, `${at}.ageGroup must be one of ${AGE_GROUPS.join(', ')}`);
    fields['attributes.ageGroup'] = input.ageGroup;
  }
  if (given(input.timeZone)) {
    const timeZone = visibleText(input.timeZone, `${at}.timeZone`);
    if (timeZone.length > 64 || !isTimeZone(timeZone))
      throw new InputProblem(
        `${at}.timeZone`,
        `${at}.timeZone must be an IANA time zone, e.g. Asia/Shanghai`,
      );
    fields['contact.timeZone'] = timeZone;
  }
  if (given(input.phoneVerified)) fields['contact.phoneVerified'] = input.phoneVerified;
  if (given(input.fiveGCapable)) fields['contact.fiveGCapable'] = input.fiveGCapable;
  return fields;
}

/**
 * The member a customer seen for the first time becomes: what the system gave, and what members itself owns at its
 * start — the entry level, no points, the ACQUISITION stage (registered, not yet active) that never changed, and the
 * most conservative risk level until the suitability assessment says otherwise. Null without a name, phone or ID
 * number: personal data only a bank system can give.
 */
export function newMember(
  id: string,
  fields: SyncedFields,
  tags: Readonly<Record<string, TagValue>>,
  syncedAsOf: SyncedAsOf,
  entryLevel: MembershipLevelDoc,
  now: Date,
): MemberDoc | null {
  const name = fields['personal.name'];
  const phone = fields['personal.phone'];
  const idNumber = fields['personal.idNumber'];
  if (name === undefined || phone === undefined || idNumber === undefined) return null;
  // Only what was given is stored: contactOf supplies the defaults, and a second system's sync racing this one for
  // the member's creation then sets its own fields over none of ours.
  const defined = <T extends object>(object: T) =>
    Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
  return {
    _id: id,
    personal: { name, phone, idNumber },
    attributes: defined({ city: fields['attributes.city'], ageGroup: fields['attributes.ageGroup'] }),
    contact: defined({
      timeZone: fields['contact.timeZone'],
      phoneVerified: fields['contact.phoneVerified'],
      fiveGCapable: fields['contact.fiveGCapable'],
    }),
    tags: { ...tags },
    levelCode: entryLevel._id,
    levelRank: entryLevel.rank,
    points: 0,
    growthPoints: 0,
    riskLevel: fields.riskLevel ?? 'R1',
    lifecycleStage: 'ACQUISITION',
    lifecycleChangedAt: null,
    registeredAt: fields.registeredAt ?? now,
    updatedAt: now,
    appliedEntries: [],
    syncedAsOf,
  };
}

/** The stamps of the given fields and IMPORTED tags of one record taken at `asOf`: what a new member stores. */
export function stampsOf(fields: SyncedFields, importedCodes: readonly string[], asOf: Date): SyncedAsOf {
  const stamp = (names: readonly string[]) => Object.fromEntries(names.map((name) => [name, asOf]));
  return {
    fields: stamp(Object.keys(fields).map((path) => SYNCED_FIELD_NAMES[path as keyof SyncedFields])),
    tags: stamp(importedCodes),
  };
}

/** What one record writes on a stored member: the fields and tags newer than the stored ones, and why not the rest. */
export interface SyncPlan {
  /** Profile fields to write, by path: given, and from a record newer than the stored value's. */
  fields: SyncedFields;
  /** Tags to write: the IMPORTED ones newer than stored, and the computed ones that follow from those (aum_band). */
  tags: Record<string, TagValue>;
  /** The stamp of each field and IMPORTED tag written, by its path in the member document (syncedAsOf.fields.phone). */
  stamps: Record<string, Date>;
  /** Given fields and IMPORTED tags not written because a newer record's value is stored: phone, tags.aum, … */
  stale: string[];
  /** Tags not written because the member would carry more than the bound: all the record's tags to write, or none. */
  overTagLimit: string[];
}

/** Whether a record taken at `asOf` is newer than the stored value stamped `stamp`: 1 newer, 0 a repeat, -1 older. */
function comparedWith(asOf: Date, stamp: Date | undefined): 1 | 0 | -1 {
  // A value stored without a stamp (a member stored before stamps, or set by an operator) is older than any record:
  // members need no migration.
  if (stamp === undefined) return 1;
  return Math.sign(asOf.getTime() - stamp.getTime()) as 1 | 0 | -1;
}

/**
 * What a record taken at `asOf` writes on `member`, field by field and tag by tag: each given value whose stored one
 * came from an older record (or none) — one from the same record is a repeat, one from a newer record stays and is
 * reported stale. Per field, not per record, so that core banking's phone and the CRM's city both land in any order.
 * A risk level is not written once an assessment is recorded (riskAssessedAt), and the tags only while the member
 * stays within `maxTags`; computed tags follow the imported ones actually written.
 */
export function planSync(
  member: Pick<MemberDoc, 'tags' | 'riskAssessedAt' | 'syncedAsOf'>,
  record: { asOf: Date; fields: SyncedFields; tags: Readonly<Record<string, TagValue>> },
  rules: { deriveAumBand: boolean; maxTags: number },
): SyncPlan {
  const plan: SyncPlan = { fields: {}, tags: {}, stamps: {}, stale: [], overTagLimit: [] };
  for (const [path, value] of Object.entries(record.fields) as [keyof SyncedFields, unknown][]) {
    if (path === 'riskLevel' && member.riskAssessedAt) continue;
    const name = SYNCED_FIELD_NAMES[path];
    const newer = comparedWith(record.asOf, member.syncedAsOf?.fields?.[name]);
    if (newer === 1) {
      Object.assign(plan.fields, { [path]: value });
      plan.stamps[`syncedAsOf.fields.${name}`] = record.asOf;
    } else if (newer === -1) plan.stale.push(name);
  }
  const imported: Record<string, TagValue> = {};
  const tagStamps: Record<string, Date> = {};
  for (const [code, value] of Object.entries(record.tags)) {
    const newer = comparedWith(record.asOf, member.syncedAsOf?.tags?.[code]);
    if (newer === 1) {
      imported[code] = value;
      tagStamps[`syncedAsOf.tags.${code}`] = record.asOf;
    } else if (newer === -1) plan.stale.push(`tags.${code}`);
  }
  const tags = rules.deriveAumBand ? withAumBand(imported, []).set : imported;
  if (fitsTagLimit(Object.keys(member.tags ?? {}), Object.keys(tags), rules.maxTags)) {
    plan.tags = tags;
    Object.assign(plan.stamps, tagStamps);
  } else plan.overTagLimit = Object.keys(tags);
  return plan;
}

/** The value at a dotted path of a member document. */
function valueAt(member: MemberDoc, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], member);
}

/** Whether writing `plan` changes any value `member` holds (not only the stamps): what UPDATED means. */
export function changesValues(member: MemberDoc, plan: Pick<SyncPlan, 'fields' | 'tags'>): boolean {
  return (
    Object.entries(plan.fields).some(([path, value]) => !isDeepStrictEqual(valueAt(member, path), value)) ||
    Object.entries(plan.tags).some(([code, value]) => !isDeepStrictEqual(member.tags?.[code], value))
  );
}
