// Checks an operator's event definition before it joins the tracking plan. Each problem names the input field.
import { InputProblem, requiredText } from '@bank-hub/shared';
import type { PropertyType, TrackedPropertyDoc } from '../models/tracking-plan';
import { TOPIC_EVENTS, TOPIC_ID_PROPERTY } from './topic-heat';

const EVENT_NAME = /^[a-z][a-z0-9_]{1,39}$/;
const PROPERTY_NAME = /^[a-z][A-Za-z0-9]{0,39}$/;
const MAX_PROPERTIES = 20;

export interface TrackedEventInput {
  name: string;
  description: string;
  properties: readonly {
    name: string;
    type: PropertyType;
    required?: boolean | null;
    description: string;
  }[];
}

/**
 * Properties the hub itself reads of an event, by event: a definition must keep each, of its type and required, or the
 * events it lets in would measure nothing (a topic_view without its topic).
 */
export const READ_BY_THE_HUB: Readonly<Record<string, readonly TrackedPropertyDoc[]>> = Object.fromEntries(
  Object.keys(TOPIC_EVENTS).map((name) => [name, [TOPIC_ID_PROPERTY]]),
);

/** Operators read descriptions in the tracking plan when they build tasks and funnels on its events. */
const description = (value: string, field: string): string => requiredText(value, field, 300);

export function checkTrackedEvent(input: TrackedEventInput): {
  name: string;
  description: string;
  properties: TrackedPropertyDoc[];
} {
  if (!EVENT_NAME.test(input.name))
    throw new InputProblem('input.name', 'input.name must be lower snake case, at most 40 characters');
  if (input.properties.length > MAX_PROPERTIES)
    throw new InputProblem('input.properties', `an event has at most ${MAX_PROPERTIES} properties`);
  const seen = new Set<string>();
  const properties = input.properties.map((property, i): TrackedPropertyDoc => {
    const at = `input.properties[${i}]`;
    if (!PROPERTY_NAME.test(property.name))
      throw new InputProblem(`${at}.name`, 'a property name is lower camel case, at most 40 characters');
    if (seen.has(property.name))
      throw new InputProblem(`${at}.name`, `property ${property.name} is named twice`);
    seen.add(property.name);
    return {
      name: property.name,
      type: property.type,
      required: property.required ?? false,
      description: description(property.description, `${at}.description`),
    };
  });
  for (const kept of Object.hasOwn(READ_BY_THE_HUB, input.name) ? READ_BY_THE_HUB[input.name]! : []) {
    const property = properties.find((candidate) => candidate.name === kept.name);
    if (!property || property.type !== kept.type || !property.required)
      throw new InputProblem(
        'input.properties',
        `${input.name} must keep its required ${kept.type} property ${kept.name}: the hub reads it`,
      );
  }
  return { name: input.name, description: description(input.description, 'input.description'), properties };
}
