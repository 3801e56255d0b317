// What a channel says back about a message — a gateway's refusal, a carrier's failure report — is kept on the outbox
// entry as `lastError`, which every operator reads (pii:read or not), and logged. A gateway may echo what it was given,
// so the member's phone number and name, and any run of seven or more digits (a phone number however written, an ID
// or card number), are starred out before it is kept.
import type { PersonalField } from '@bank-hub/shared';
import { render, type VariableValues } from '../../templates/domain/variables';

const DIGIT_RUN = /\+?\d(?:[\s().-]{0,2}\d){6,}[Xx]?/g;

const starred = (value: string) => '*'.repeat([...value].length);

/** The member's personal data the text shows as it is: their name, their phone number. */
export function personalDataIn(
  text: string,
  member: { to: string | null; vars: VariableValues },
): PersonalField[] {
  const shows = (values: readonly (string | null | undefined)[]) =>
    values.some((value) => !!value && text.includes(value));
  const name = shows([member.vars['member.name'], render('{{member.name}}', member.vars)]);
  return [...(name ? (['name'] as const) : []), ...(shows([member.to]) ? (['phone'] as const) : [])];
}

/** The text with the member's personal data starred out. */
export function withoutPersonalData(
  text: string,
  member: { to: string | null; vars: VariableValues },
): string {
  // The name as given, and as a message shows it (cut to the variable's length).
  const known = [member.to, member.vars['member.name'], render('{{member.name}}', member.vars)]
    .filter((value): value is string => !!value)
    .sort((a, b) => b.length - a.length);
  let result = text;
  for (const value of known) result = result.split(value).join(starred(value));
  return result.replace(DIGIT_RUN, starred);
}
