// SMS length the way carriers bill it. A text of GSM-7 characters only takes 160 per segment (153 per segment once it
// needs more than one, the rest carrying the concatenation header); any other character — Chinese, an emoji, a curly
// quote — switches the whole text to UCS-2: 70 per segment, 67 once concatenated. Characters of GSM-7's extension
// table (€ [ ] { } ~ ^ | \) take two septets; characters outside the Basic Multilingual Plane take two UCS-2 units.

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENDED = '\f^{}\\[~]|€';

const BASIC = new Set(GSM7_BASIC);
const EXTENDED = new Set(GSM7_EXTENDED);

export type SmsEncoding = 'GSM7' | 'UCS2';

export interface SmsLength {
  encoding: SmsEncoding;
  /** Characters as the member sees them. */
  characters: number;
  /** Units billed: septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
}

export const SEGMENT = {
  GSM7: { single: 160, multi: 153 },
  UCS2: { single: 70, multi: 67 },
} as const;

export function smsLength(text: string): SmsLength {
  const characters = [...text];
  const gsm = characters.every((char) => BASIC.has(char) || EXTENDED.has(char));
  const encoding: SmsEncoding = gsm ? 'GSM7' : 'UCS2';
  const units = gsm ? characters.reduce((sum, char) => sum + (EXTENDED.has(char) ? 2 : 1), 0) : text.length; // UTF-16 code units: a character outside the BMP counts twice
  const { single, multi } = SEGMENT[encoding];
  const segments = units === 0 ? 0 : units <= single ? 1 : Math.ceil(units / multi);
  return { encoding, characters: characters.length, units, segments };
}

/** The text an SMS carries: the sender's signature, the body, and the opt-out line, as written. */
export const smsText = (sms: { signature: string; body: string; optOut: string }): string =>
  `${sms.signature}${sms.body}${sms.optOut}`;

/** 【海川银行】: the sender's name in 【】, 2 to 12 characters, as Chinese carriers require it. */
export const SMS_SIGNATURE = /^【[^【】\s]{2,12}】$/u;

/** An opt-out line names how to opt out: reply TD (退订), T, N, or STOP. */
export const SMS_OPT_OUT = /退订|\bTD\b|\bSTOP\b|拒收/iu;
