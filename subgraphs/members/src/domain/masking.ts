// Personal data masking: a bank shows personal data only to callers allowed to see it.
import { contactOf, type MemberDoc } from '../models/member';

export interface ProfileView {
  /** Whose profile: the audit trail names them when the personal data is shown unmasked. */
  memberId: string;
  name: string;
  phone: string;
  idNumber: string;
  unmasked: boolean;
  city: string | null;
  ageGroup: string | null;
  timeZone: string;
  phoneVerified: boolean;
  fiveGCapable: boolean;
}

const stars = (count: number) => '*'.repeat(Math.max(count, 1));

/**
 * How many characters a masked value may show: fewer than half of them, so a short value — an 8-digit phone number,
 * a 9-character passport number — is never mostly shown, and never more than `most` (a phone's last four digits, what
 * a member names it by, "尾号5678").
 */
const visible = (length: number, most: number) => Math.min(most, Math.ceil(length / 2) - 1);

/** 张三丰 → 张**; Alice Wong → A*********; 张三 → ** (the first character only when fewer than half) */
export function maskName(name: string): string {
  const chars = [...name];
  return visible(chars.length, 1) === 0 ? stars(chars.length) : `${chars[0]}${stars(chars.length - 1)}`;
}

/** Only the last characters, at most four and fewer than half: 13812345678 → *******5678, 12345678 → *****678 */
function maskTail(value: string): string {
  const chars = [...value];
  const shown = visible(chars.length, 4);
  return `${stars(chars.length - shown)}${chars.slice(chars.length - shown).join('')}`;
}

export const maskPhone = maskTail;

/** 110101199003074512 → **************4512; E12345678 → *****5678 */
export const maskIdNumber = maskTail;

export function profileView(
  member: Pick<MemberDoc, '_id' | 'personal' | 'attributes' | 'contact'>,
  unmasked: boolean,
  bankTimeZone: string,
): ProfileView {
  const { name, phone, idNumber } = member.personal;
  return {
    memberId: member._id,
    name: unmasked ? name : maskName(name),
    phone: unmasked ? phone : maskPhone(phone),
    idNumber: unmasked ? idNumber : maskIdNumber(idNumber),
    unmasked,
    city: member.attributes.city ?? null,
    ageGroup: member.attributes.ageGroup ?? null,
    ...contactOf(member, bankTimeZone),
  };
}
