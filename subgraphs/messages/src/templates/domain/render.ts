// A template rendered for one member on one channel: variables filled in, an SMS counted as it is billed. A FIVE_G
// template renders its card on FIVE_G and its SMS rendering on SMS (the fallback rung).
import type { MessageChannel } from '@bank-hub/shared';
import type { CardFields, MessageFormat, TemplateFields } from '../model';
import { smsLength, smsText, type SmsEncoding } from './sms';
import { render, variablesOf, type VariableValues } from './variables';

export interface RenderedMessage {
  channel: MessageChannel;
  format: MessageFormat;
  title: string | null;
  body: string | null;
  mediaUrl: string | null;
  link: string | null;
  smsText: string | null;
  smsCharacters: number | null;
  smsSegments: number | null;
  smsEncoding: SmsEncoding | null;
  card: CardFields | null;
}

/** The variables a template's copy names, in every rendering. */
export const templateVariables = (template: TemplateFields): string[] =>
  variablesOf([
    template.title,
    template.body,
    template.sms?.body,
    template.card?.title,
    template.card?.description,
  ]);

/** Whether a template's copy shows benefit.* variables: it goes only with a benefit to fill them in. */
export const showsBenefit = (template: TemplateFields): boolean =>
  templateVariables(template).some((name) => name.startsWith('benefit.'));

/** Whether a template has a rendering for the channel. */
export function rendersOn(template: Pick<TemplateFields, 'format'>, channel: MessageChannel): boolean {
  if (channel === 'FIVE_G') return template.format === 'FIVE_G';
  if (channel === 'SMS') return template.format === 'SMS' || template.format === 'FIVE_G';
  return template.format !== 'SMS' && template.format !== 'FIVE_G';
}

export function renderMessage(
  template: TemplateFields,
  channel: MessageChannel,
  values: VariableValues,
): RenderedMessage {
  const empty: RenderedMessage = {
    channel,
    format: template.format,
    title: null,
    body: null,
    mediaUrl: null,
    link: null,
    smsText: null,
    smsCharacters: null,
    smsSegments: null,
    smsEncoding: null,
    card: null,
  };
  if (!rendersOn(template, channel))
    throw new Error(`a ${template.format} template has no ${channel} rendering`);
  if (channel === 'SMS') {
    const sms = template.sms!;
    const text = smsText({ ...sms, body: render(sms.body, values) });
    const length = smsLength(text);
    return {
      ...empty,
      smsText: text,
      smsCharacters: length.characters,
      smsSegments: length.segments,
      smsEncoding: length.encoding,
    };
  }
  if (channel === 'FIVE_G') {
    const card = template.card!;
    return {
      ...empty,
      card: {
        ...card,
        title: render(card.title, values),
        description: render(card.description, values),
      },
    };
  }
  return {
    ...empty,
    title: render(template.title ?? '', values),
    body: render(template.body ?? '', values),
    mediaUrl: template.mediaUrl,
    link: template.link,
  };
}
