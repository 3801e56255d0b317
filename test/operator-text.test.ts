// Operators' text that members or other operators read, through the gateway, in every subgraph that takes it: a
// control, bidirectional or invisible character (U+202E shows "8.88%" as "%88.8") or half a character is refused with
// BAD_USER_INPUT naming the field, storing nothing; text that is fine is stored trimmed.
import type { RunningHub } from '../scripts/hub';
import { callerOf, type Send } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { SMS } from './support/messages';
import { storedState } from './support/stored';

let hub: RunningHub;
let operator: Send;

beforeAll(async () => {
  hub = await startTestHub('operator_text');
  operator = await callerOf(hub.gatewayUrl, 'ops.alice', 'operator');
});

afterAll(() => stopTestHub(hub));

const DEFINE_TAGS = `mutation ($tags: [TagDefinitionInput!]!) { defineTags(tags: $tags) { code name category description } }`;
const SET_TAGS = `mutation ($value: JSON!) { setMemberTags(memberId: "M0001", tags: [{ code: "interests", value: $value }]) { id } }`;
const UPSERT_SEGMENT = `mutation ($input: SegmentInput!) { upsertSegment(input: $input) { code name description } }`;
const CREATE_BENEFIT = `mutation ($input: BenefitInput!) { createBenefit(input: $input) { id title } }`;
const CREATE_TEMPLATE = `mutation ($input: TemplateInput!) { createTemplate(input: $input) { id } }`;
const DEFINE_EVENT = `mutation ($input: TrackedEventInput!) { defineTrackedEvent(input: $input) { name } }`;

/** The subgraph each mutation writes. */
const OWNER: Record<string, keyof RunningHub['connections']> = {
  [DEFINE_TAGS]: 'members',
  [SET_TAGS]: 'members',
  [UPSERT_SEGMENT]: 'members',
  [CREATE_BENEFIT]: 'engagement',
  [CREATE_TEMPLATE]: 'messages',
  [DEFINE_EVENT]: 'analytics',
};

const tag = (overrides: Record<string, unknown>) => ({
  code: 'savings_goal',
  name: 'Savings goal',
  category: 'preference',
  valueType: 'BOOLEAN',
  source: 'MANUAL',
  description: 'Set a savings goal in the app.',
  ...overrides,
});
const segment = (overrides: Record<string, unknown>) => ({
  code: 'GOLD_SAVERS',
  name: 'Gold savers',
  description: 'Gold members who save.',
  rule: { field: 'level', op: 'eq', value: 'GOLD' },
  ...overrides,
});
const benefit = (overrides: Record<string, unknown>) => ({
  title: 'Fee waiver',
  kind: 'FEE_DISCOUNT',
  value: 50,
  stock: 10,
  startsAt: '2026-01-01T00:00:00+08:00',
  endsAt: '2030-01-01T00:00:00Z',
  validDays: 30,
  ...overrides,
});
const smsTemplate = (sms: Record<string, unknown>) => ({
  name: 'Season (SMS)',
  format: 'SMS',
  sms: { ...SMS, ...sms },
});
const trackedEvent = (overrides: Record<string, unknown>) => ({
  name: 'goal_set',
  description: 'A savings goal was set.',
  properties: [{ name: 'goalId', type: 'ID', required: true, description: 'The goal.' }],
  ...overrides,
});

describe('hidden characters in operator text', () => {
  it.each([
    // Members: tag names reach members through their tags, segment names through their segments.
    ['tag name', DEFINE_TAGS, { tags: [tag({ name: '储蓄 \u202E目标' })] }, 'tags[0].name'],
    ['tag category', DEFINE_TAGS, { tags: [tag({ category: 'pref\u200Berence' })] }, 'tags[0].category'],
    [
      'tag description',
      DEFINE_TAGS,
      { tags: [tag({ description: 'goal \u0007set' })] },
      'tags[0].description',
    ],
    // A list value members read among their tags, and segments and affinity match on: it would look like travel.
    ['tag value', SET_TAGS, { value: ['investing', 'travel\u200B'] }, 'tags[0].value'],
    ['segment name', UPSERT_SEGMENT, { input: segment({ name: 'Gold \u2066savers' }) }, 'input.name'],
    // Any other invisible formatting character: a tag character, a soft hyphen, a right-to-left mark before a sign.
    ['segment name', UPSERT_SEGMENT, { input: segment({ name: 'Gold savers\u{E0041}' }) }, 'input.name'],
    ['tag value', SET_TAGS, { value: ['invest\u00ADing'] }, 'tags[0].value'],
    ['benefit title', CREATE_BENEFIT, { input: benefit({ title: '费率 \u200F-5%' }) }, 'input.title'],
    [
      'segment description',
      UPSERT_SEGMENT,
      { input: segment({ description: 'Half an emoji \ud83d' }) },
      'input.description',
    ],
    // Engagement: a benefit's title is what a member claims, and a message variable ({{benefit.title}}).
    ['benefit title', CREATE_BENEFIT, { input: benefit({ title: '手续费 \u202E%05 减免' }) }, 'input.title'],
    // Messages: the SMS signature names the sender; the opt-out line says how to stop messages.
    [
      'SMS signature',
      CREATE_TEMPLATE,
      { input: smsTemplate({ signature: '【海川\u202E银行】' }) },
      'input.sms.signature',
    ],
    [
      'SMS opt-out line',
      CREATE_TEMPLATE,
      { input: smsTemplate({ optOut: '回复TD\u200B退订' }) },
      'input.sms.optOut',
    ],
    // Analytics: the tracking plan operators build tasks and funnels from.
    [
      'tracked event description',
      DEFINE_EVENT,
      { input: trackedEvent({ description: 'A goal \u202Ewas set.' }) },
      'input.description',
    ],
    [
      'tracked property description',
      DEFINE_EVENT,
      {
        input: trackedEvent({
          properties: [{ name: 'goalId', type: 'ID', required: true, description: 'The\u0000 goal.' }],
        }),
      },
      'input.properties[0].description',
    ],
  ])('refuses a %s with one, storing nothing', async (_what, query, variables, field) => {
    // The database of the subgraph the mutation writes: reading every subgraph's whole (analytics' event history
    // among them) twice a case made this the slowest file of the suite.
    const owner = OWNER[query]!;
    const own = { [owner]: hub.connections[owner] };
    const before = await storedState(own);
    const response = await operator(query, variables);
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await storedState(own)).toEqual(before);
  });

  it('stores tag and segment text trimmed, as members then read it', async () => {
    const defined = await operator(DEFINE_TAGS, {
      tags: [tag({ code: 'goal_saver', name: ' Goal saver ', category: ' preference', description: '   ' })],
    });
    expect(defined.errors).toBeUndefined();
    expect(defined.data?.defineTags).toEqual([
      { code: 'goal_saver', name: 'Goal saver', category: 'preference', description: null },
    ]);
    const upserted = await operator(UPSERT_SEGMENT, {
      input: segment({ code: 'GOLD_GOALS', name: '  Gold goals ', description: ' For gold members. ' }),
    });
    expect(upserted.data?.upsertSegment).toEqual({
      code: 'GOLD_GOALS',
      name: 'Gold goals',
      description: 'For gold members.',
    });
  });
});
