// What the bank's core banking and CRM systems hand members about a customer (upsertMembers): the profile they own,
// checked field by field, and the member a customer seen for the first time becomes.
import { InputProblem, isTimeZone, matching, requiredText, visibleText } from '@bank-hub/shared';
import type { MemberDoc, RiskLevel, TagValue } from '../models/member';
import type { MembershipLevelDoc } from '../models/membership-level';

/** Members one call hands over at most: a page of a system's export, as applyLifecycle takes a page of results. */
export const MAX_SYNC_MEMBERS = 500;

/** The age groups segments and affinity keys compare with (`attr.ageGroup`); any other would match no rule. */
export const AGE_GROUPS = ['18-24', '25-34', '35-44', '45-54', '55-64', '65+'] as const;

const RISK_LEVELS: ReadonlySet<string> = new Set<RiskLevel>(['R1', 'R2', 'R3', 'R4', 'R5']);

/** A mobile number as the bank's systems store it: digits, perhaps after a country code's +. */
const PHONE = /^\+?[0-9]{6,20}$/;
/** A national ID or passport number. */
const ID_NUMBER = /^[A-Za-z0-9]{5,32}$/;
/** The earliest registration the hub takes: older dates are a system's placeholder, not a customer's. */
const EARLIEST_REGISTRATION = new Date('1900-01-01T00:00:00Z');
/** How far ahead of the hub's clock a system's clock may run: a registration later than that has not happened. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** One member as a bank system gives it: fields left out (or null) stay as stored. */
export interface MemberSyncInput {
  id: string;
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
  if (given(input.registeredAt)) {
    const time = input.registeredAt.getTime();
    if (time < EARLIEST_REGISTRATION.getTime() || time > now.getTime() + CLOCK_SKEW_MS)
      throw new InputProblem(`${at}.registeredAt`, `${at}.registeredAt must be from 1900 to now`);
    fields.registeredAt = input.registeredAt;
  }
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
  };
}
