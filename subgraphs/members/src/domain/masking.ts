// Personal data masking: a bank shows personal data only to callers allowed to see it.
import { contactOf, type MemberDoc } from '../models/member';

export interface ProfileView {
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

/** 张三丰 → 张**; Alice Wong → A********* */
export function maskName(name: string): string {
  const chars = [...name];
  return chars.length <= 1 ? '*' : `${chars[0]}${stars(chars.length - 1)}`;
}

/** 13812345678 → 138****5678 */
export function maskPhone(phone: string): string {
  if (phone.length < 8) return stars(phone.length);
  return `${phone.slice(0, 3)}${stars(phone.length - 7)}${phone.slice(-4)}`;
}

/** 110101199003074512 → 1101**********4512 */
export function maskIdNumber(idNumber: string): string {
  if (idNumber.length < 9) return stars(idNumber.length);
  return `${idNumber.slice(0, 4)}${stars(idNumber.length - 8)}${idNumber.slice(-4)}`;
}

export function profileView(
  member: Pick<MemberDoc, 'personal' | 'attributes' | 'contact'>,
  unmasked: boolean,
): ProfileView {
  const { name, phone, idNumber } = member.personal;
  return {
    name: unmasked ? name : maskName(name),
    phone: unmasked ? phone : maskPhone(phone),
    idNumber: unmasked ? idNumber : maskIdNumber(idNumber),
    unmasked,
    city: member.attributes.city ?? null,
    ageGroup: member.attributes.ageGroup ?? null,
    ...contactOf(member),
  };
}
