// Helpers for the messages tests: operators authoring through the gateway (four eyes: one edits, another approves),
// and the scheduler and sender run in-process on the hub's own database, so a test decides when they run.
import { BankCalendar, GraphClient, createLogger, type Logger } from '@bank-hub/shared';
import type { RunningHub } from '../../scripts/hub';
import { runScheduler } from '../../subgraphs/messages/src/campaigns/scheduler';
import { openRepositories, type MessagesRepositories } from '../../subgraphs/messages/src/models';
import type { ProviderAdapter } from '../../subgraphs/messages/src/outbox/adapters/adapter';
import { LocalProvider } from '../../subgraphs/messages/src/outbox/adapters/local';
import { sendDue, type SendRules } from '../../subgraphs/messages/src/outbox/worker';
import { sendRulesOf } from '../../subgraphs/messages/src/server';
import { bearer, clientToken, graphql, testConfig, type GraphQLResponse } from './env';

export const logger: Logger = createLogger('messages-test', 'silent');

export interface Messaging {
  repos: MessagesRepositories;
  graph: GraphClient;
  /** The bank's calendar, as the scheduler is given it. */
  calendar: BankCalendar;
  /** Sends a document as ops.alice (the editor). */
  alice(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse>;
  /** Sends a document as ops.bob (the approver). */
  bob(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse>;
  member(memberId: string, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse>;
  /** Creates a template as alice and has it published (bob approves); its id. */
  publishedTemplate(input: Record<string, unknown>): Promise<string>;
  /** Creates a campaign as alice and has it approved by bob; its id. */
  approvedCampaign(input: Record<string, unknown>): Promise<string>;
  /** Alice edits a published campaign, submits the edit, and bob approves it. */
  republishedCampaign(id: string, input: Record<string, unknown>): Promise<void>;
  /** Plans what is due, as the scheduler would. */
  schedule(): Promise<void>;
  /** Sends what is due, as the sender would, through `provider` (the local one by default). */
  send(options?: { provider?: ProviderAdapter; rules?: Partial<SendRules> }): ReturnType<typeof sendDue>;
}

export async function messaging(hub: RunningHub, config = testConfig): Promise<Messaging> {
  const repos = await openRepositories(hub.connections.messages);
  const graph = new GraphClient(() => hub.gatewayUrl, config.SUBGRAPH_SECRET);
  const calendar = new BankCalendar(config.BANK_TIME_ZONE);
  const as =
    (subject: string, scope: string) =>
    async (query: string, variables: Record<string, unknown> = {}) =>
      graphql(hub.gatewayUrl, query, variables, bearer(await clientToken(subject, scope)));
  const alice = as('ops.alice', 'operator');
  const bob = as('ops.bob', 'operator');
  /** Takes a step from `expectedVersion` (approval needs one); answers the version after it. */
  const step = async (
    type: string,
    id: string,
    action: string,
    who: typeof alice,
    expectedVersion: number | null = null,
  ): Promise<number> => {
    const response = await who(
      `mutation ($type: MessagesTargetType!, $id: ID!, $step: WorkflowStep!, $expectedVersion: Int) {
        messagesWorkflow(type: $type, id: $id, step: $step, expectedVersion: $expectedVersion) { version }
      }`,
      { type, id, step: action, expectedVersion },
    );
    if (response.errors) throw new Error(`${action} ${type} ${id}: ${JSON.stringify(response.errors)}`);
    return response.data?.messagesWorkflow.version as number;
  };
  /** Submits as alice, and approves what she submitted as bob. */
  const publish = async (type: string, id: string) =>
    step(type, id, 'APPROVE', bob, await step(type, id, 'SUBMIT', alice));
  return {
    repos,
    graph,
    calendar,
    alice,
    bob,
    member: (memberId, query, variables) => as(memberId, 'member')(query, variables),
    async publishedTemplate(input) {
      const created = await alice(
        `mutation ($input: TemplateInput!) { createTemplate(input: $input) { id } }`,
        {
          input,
        },
      );
      const id = created.data?.createTemplate?.id as string | undefined;
      if (!id) throw new Error(`createTemplate: ${JSON.stringify(created.errors)}`);
      await publish('TEMPLATE', id);
      return id;
    },
    async approvedCampaign(input) {
      const created = await alice(
        `mutation ($input: CampaignInput!) { createCampaign(input: $input) { id } }`,
        {
          input,
        },
      );
      const id = created.data?.createCampaign?.id as string | undefined;
      if (!id) throw new Error(`createCampaign: ${JSON.stringify(created.errors)}`);
      await publish('CAMPAIGN', id);
      return id;
    },
    async republishedCampaign(id, input) {
      const edited = await alice(
        `mutation ($id: ID!, $input: CampaignInput!) { updateCampaign(id: $id, input: $input) { version } }`,
        { id, input },
      );
      if (edited.errors) throw new Error(`updateCampaign: ${JSON.stringify(edited.errors)}`);
      await publish('CAMPAIGN', id);
    },
    async schedule() {
      await runScheduler({ repos, graph, logger, calendar });
    },
    send(options = {}) {
      return sendDue({
        repos,
        provider: options.provider ?? new LocalProvider(repos.localDeliveries),
        rules: { ...sendRulesOf(config), ...options.rules },
        logger,
      });
    },
  };
}

/**
 * Quiet hours of one minute that no test member's clock shows for hours, for campaigns whose tests are not about quiet
 * hours (a marketing campaign without any has the default evening ones). A fixed minute such as 03:00 is hit when
 * the suite runs at that minute in a member's zone; the wall-clock minute six hours from now in UTC is at least two
 * hours from now in every zone the tests use (UTC-8 to UTC+11).
 */
export function quietHoursNotNow(): { start: string; end: string } {
  const at = new Date(Date.now() + 6 * 3_600_000);
  const hhmm = (date: Date) => date.toISOString().slice(11, 16);
  return { start: hhmm(at), end: hhmm(new Date(at.getTime() + 60_000)) };
}

export const SMS = {
  signature: '【海川银行】',
  body: '{{member.name}}您好，理财季开启。',
  optOut: '回复TD退订',
};

export const FIVE_G_TEMPLATE = {
  name: 'Season (5G)',
  format: 'FIVE_G',
  sms: SMS,
  card: {
    title: '理财季',
    description: '{{member.name}}，{{member.level}}会员专享',
    buttons: [{ label: '立即查看', action: 'OPEN_URL', target: 'https://m.haichuan-bank.example/wealth' }],
    suggestedReplies: ['退订'],
  },
};

export const SMS_TEMPLATE = { name: 'Season (SMS)', format: 'SMS', sms: SMS };

export const IN_APP_TEMPLATE = {
  name: 'Season (in-app)',
  format: 'TEXT',
  title: '理财季',
  body: '{{member.name}}，您好',
  link: '/wealth',
};
