// Computed tags that follow from members' own data rather than from behaviour: new_user from when a member registered,
// aum_band from the aum tag. Members derives them where it writes members; analytics could not know their inputs.
import type { TagValue } from '../models/member';

export const NEW_USER_TAG = 'new_user';
/** A member is new for this many days after registering (the tag library's "Registered in the last 30 days"). */
export const NEW_MEMBER_DAYS = 30;
const DAY_MS = 86_400_000;

/** Whether a member registered at `registeredAt` is still new at `now`: less than NEW_MEMBER_DAYS since. */
export function isNewMember(registeredAt: Date, now: Date): boolean {
  return now.getTime() - registeredAt.getTime() < NEW_MEMBER_DAYS * DAY_MS;
}

/**
 * The new_user value to write: true while the member is new; false once they are not, if they carry the tag; null (write
 * nothing) for a member who is not new and never carried it — absent says the same, and adding it could take a member
 * at their 100 tags past the bound, refusing every computed tag of theirs.
 */
export function newUserValue(registeredAt: Date, carriesTag: boolean, now: Date): boolean | null {
  if (isNewMember(registeredAt, now)) return true;
  return carriesTag ? false : null;
}

/** Whether the library keeps `code` a COMPUTED tag of `valueType`, so that members derives it (an operator who made it MANUAL sets it). */
export const derives = (
  library: ReadonlyMap<string, { source: string; valueType: string }>,
  code: string,
  valueType: string,
): boolean => library.get(code)?.source === 'COMPUTED' && library.get(code)?.valueType === valueType;

export const AUM_TAG = 'aum';
export const AUM_BAND_TAG = 'aum_band';

/** The band of an AUM in the bank's currency (the tag library's "<10K, 10K-50K, 50K-500K, 500K-6M, 6M+"). */
export function aumBand(aum: number): string {
  if (aum >= 6_000_000) return '6M+';
  if (aum >= 500_000) return '500K-6M';
  if (aum >= 50_000) return '50K-500K';
  if (aum >= 10_000) return '10K-50K';
  return '<10K';
}

/**
 * What setting and removing tags also does to aum_band, while the library keeps it COMPUTED: set with aum, removed
 * with it. A call that names aum_band itself keeps its own value.
 */
export function withAumBand(
  set: Readonly<Record<string, TagValue>>,
  remove: readonly string[],
): { set: Record<string, TagValue>; remove: string[] } {
  const named = Object.hasOwn(set, AUM_BAND_TAG) || remove.includes(AUM_BAND_TAG);
  const aum = set[AUM_TAG];
  if (!named && typeof aum === 'number')
    return { set: { ...set, [AUM_BAND_TAG]: aumBand(aum) }, remove: [...remove] };
  if (!named && remove.includes(AUM_TAG)) return { set: { ...set }, remove: [...remove, AUM_BAND_TAG] };
  return { set: { ...set }, remove: [...remove] };
}
