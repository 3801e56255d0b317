// Checks template input before anything is stored: the fields each format takes, variables against the catalogue, and
// SMS renderings against carriers' rules — a signature, an opt-out line, and no more segments than the template
// allows with every variable at its longest. Each problem names the input field at fault, with its own code where
// clients must tell it apart.
import {
  ErrorCode,
  HTTPS_URL,
  InputProblem,
  checkLink,
  matching,
  optionalText,
  requiredText,
  visibleText,
  wholeNumber,
} from '@bank-hub/shared';
import type { CardAction, CardButton, CardFields, MessageFormat, SmsFields, TemplateFields } from '../model';
import { SMS_OPT_OUT, SMS_SIGNATURE, smsLength, smsText, type SmsLength } from './sms';
import { isVariable, longestRendering, placeholdersOf } from './variables';

export interface SmsInput {
  signature?: string | null;
  body: string;
  optOut?: string | null;
  maxSegments?: number | null;
}

export interface CardInput {
  title: string;
  mediaUrl?: string | null;
  description: string;
  buttons?: readonly { label: string; action: CardAction; target: string }[] | null;
  suggestedReplies?: readonly string[] | null;
}

export interface TemplateInput {
  name: string;
  format: MessageFormat;
  title?: string | null;
  body?: string | null;
  mediaUrl?: string | null;
  link?: string | null;
  sms?: SmsInput | null;
  card?: CardInput | null;
}

export const LIMITS = {
  name: 60,
  title: 40,
  body: 1_000,
  smsBody: 500,
  maxSegments: 4,
  cardTitle: 60,
  cardDescription: 500,
  buttons: 4,
  label: 25,
  replies: 5,
} as const;

const IN_APP_FORMATS: readonly MessageFormat[] = ['TEXT', 'IMAGE', 'ANIMATION', 'VIDEO'];
const FLOW_KEY = /^[a-z][a-z0-9-]{0,39}$/;
const PHONE = /^\+?[0-9][0-9-]{2,19}$/;

/** Every placeholder of a text must be a known variable. */
function checkVariables(text: string | null, field: string): void {
  if (text === null) return;
  const { names, unbalanced } = placeholdersOf(text);
  const unknown = names.find((name) => !isVariable(name));
  if (unknown !== undefined)
    throw new InputProblem(
      field,
      `${field} uses {{${unknown.slice(0, 40)}}}, which is not a variable`,
      ErrorCode.UNKNOWN_VARIABLE,
      { variable: unknown.slice(0, 40) },
    );
  if (unbalanced)
    throw new InputProblem(
      field,
      `${field} has an unmatched {{ or }}; write variables as {{member.name}}`,
      ErrorCode.UNKNOWN_VARIABLE,
    );
}

/** A field sent as written, which shows no variables: a placeholder there would reach members as "{{member.name}}". */
function checkNoVariables(text: string, field: string): string {
  if (text.includes('{{') || text.includes('}}'))
    throw new InputProblem(
      field,
      `${field} is sent as written and shows no variables; leave out {{ and }}`,
      ErrorCode.UNKNOWN_VARIABLE,
    );
  return text;
}

const absent = (value: unknown, field: string, format: MessageFormat) => {
  if (value !== null && value !== undefined)
    throw new InputProblem(field, `a ${format} template has no ${field.split('.').pop()}`);
};

/** The SMS rendering, checked: signature and opt-out line required, at most `maxSegments` at its longest. */
export function checkSms(input: SmsInput, field: string): SmsFields & { worstCase: SmsLength } {
  const signature = (input.signature ?? '').trim();
  if (!SMS_SIGNATURE.test(signature))
    throw new InputProblem(
      `${field}.signature`,
      'an SMS needs the sender’s signature in 【】, 2 to 12 characters inside, e.g. 【海川银行】',
      ErrorCode.SMS_SIGNATURE_REQUIRED,
    );
  const optOut = (input.optOut ?? '').trim();
  if (!SMS_OPT_OUT.test(optOut) || optOut.length > 40)
    throw new InputProblem(
      `${field}.optOut`,
      'an SMS needs an opt-out line of at most 40 characters naming how to opt out, e.g. 回复TD退订',
      ErrorCode.SMS_OPT_OUT_REQUIRED,
    );
  // Members read both in every SMS: the patterns above let a bidirectional override or an invisible character through.
  visibleText(signature, `${field}.signature`);
  visibleText(optOut, `${field}.optOut`);
  checkNoVariables(signature, `${field}.signature`);
  checkNoVariables(optOut, `${field}.optOut`);
  const body = requiredText(input.body, `${field}.body`, LIMITS.smsBody);
  checkVariables(body, `${field}.body`);
  const maxSegments = wholeNumber(input.maxSegments ?? 2, `${field}.maxSegments`, 1, LIMITS.maxSegments);
  const worstCase = smsLength(smsText({ signature, body: longestRendering(body), optOut }));
  if (worstCase.segments > maxSegments)
    throw new InputProblem(
      `${field}.body`,
      `with every variable at its longest the SMS is ${worstCase.units} ${worstCase.encoding} units, ` +
        `${worstCase.segments} segments; at most ${maxSegments} allowed`,
      ErrorCode.SMS_TOO_LONG,
      { segments: worstCase.segments, maxSegments, encoding: worstCase.encoding },
    );
  return { signature, body, optOut, maxSegments, worstCase };
}

function checkButton(
  button: { label: string; action: CardAction; target: string },
  field: string,
  linkHosts: ReadonlySet<string>,
): CardButton {
  const label = checkNoVariables(
    requiredText(button.label, `${field}.label`, LIMITS.label),
    `${field}.label`,
  );
  const target =
    button.action === 'OPEN_URL'
      ? checkLink(button.target, `${field}.target`, linkHosts)
      : button.action === 'OPEN_FLOW'
        ? matching(button.target, FLOW_KEY, `${field}.target`, 'a service flow key')
        : matching(button.target, PHONE, `${field}.target`, 'a phone number');
  return { label, action: button.action, target };
}

function checkCard(input: CardInput, linkHosts: ReadonlySet<string>): CardFields {
  const title = requiredText(input.title, 'input.card.title', LIMITS.cardTitle);
  const description = requiredText(input.description, 'input.card.description', LIMITS.cardDescription);
  checkVariables(title, 'input.card.title');
  checkVariables(description, 'input.card.description');
  const mediaUrl =
    input.mediaUrl === null || input.mediaUrl === undefined
      ? null
      : matching(input.mediaUrl, HTTPS_URL, 'input.card.mediaUrl', 'an https URL');
  const buttons = input.buttons ?? [];
  if (buttons.length > LIMITS.buttons)
    throw new InputProblem('input.card.buttons', `at most ${LIMITS.buttons} buttons`);
  const replies = input.suggestedReplies ?? [];
  if (replies.length > LIMITS.replies)
    throw new InputProblem('input.card.suggestedReplies', `at most ${LIMITS.replies} suggested replies`);
  return {
    title,
    mediaUrl,
    description,
    buttons: buttons.map((button, i) => checkButton(button, `input.card.buttons[${i}]`, linkHosts)),
    suggestedReplies: replies.map((reply, i) => {
      const at = `input.card.suggestedReplies[${i}]`;
      return checkNoVariables(requiredText(reply, at, LIMITS.label), at);
    }),
  };
}

/** The template's own fields, checked and normalized; the workflow fields are set by the use case. */
export function checkTemplateInput(input: TemplateInput, linkHosts: ReadonlySet<string>): TemplateFields {
  const name = requiredText(input.name, 'input.name', LIMITS.name);
  const { format } = input;
  if (IN_APP_FORMATS.includes(format)) {
    absent(input.sms, 'input.sms', format);
    absent(input.card, 'input.card', format);
    const title = requiredText(input.title, 'input.title', LIMITS.title);
    const body = requiredText(input.body, 'input.body', LIMITS.body);
    checkVariables(title, 'input.title');
    checkVariables(body, 'input.body');
    let mediaUrl: string | null = null;
    if (format === 'TEXT') absent(input.mediaUrl, 'input.mediaUrl', format);
    else
      mediaUrl = matching(input.mediaUrl, HTTPS_URL, 'input.mediaUrl', `an https URL (a ${format} needs it)`);
    const link = optionalText(input.link, 'input.link', 600);
    return {
      name,
      format,
      title,
      body,
      mediaUrl,
      link: link === null ? null : checkLink(link, 'input.link', linkHosts),
      sms: null,
      card: null,
    };
  }
  for (const field of ['title', 'body', 'mediaUrl', 'link'] as const)
    absent(input[field], `input.${field}`, format);
  if (!input.sms)
    throw new InputProblem(
      'input.sms',
      format === 'SMS'
        ? 'an SMS template needs its text'
        : 'a FIVE_G template needs the SMS rendering it falls back to',
    );
  const { worstCase: _worstCase, ...sms } = checkSms(input.sms, 'input.sms');
  if (format === 'SMS') {
    absent(input.card, 'input.card', format);
    return { name, format, title: null, body: null, mediaUrl: null, link: null, sms, card: null };
  }
  if (!input.card) throw new InputProblem('input.card', 'a FIVE_G template needs its card');
  return {
    name,
    format,
    title: null,
    body: null,
    mediaUrl: null,
    link: null,
    sms,
    card: checkCard(input.card, linkHosts),
  };
}
