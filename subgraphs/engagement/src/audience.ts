// Who a member is, as audience rules (activities, benefits) read them: the attributes members owns. Fields on Member
// get them through @requires; a mutation asks members through the graph on the member's behalf. Members down means
// nobody may assume a rule holds: SERVICE_UNAVAILABLE.
import DataLoader from 'dataloader';
import { z } from 'zod';
import {
  ErrorCode,
  forbidden,
  graphCallDeadline,
  hubError,
  serviceIdentity,
  settledWithin,
  type GraphCaller,
  type GraphClient,
} from '@bank-hub/shared';
import { evaluate, profileOfMember, type Rule } from '@bank-hub/targeting';

export const MemberAttributes = z.object({
  id: z.string(),
  segmentCodes: z.array(z.string()),
  level: z.object({ code: z.string(), rank: z.number().int() }),
  riskLevel: z.string(),
  lifecycleStage: z.string(),
  affinityKeys: z.array(z.string()),
});
export type MemberAttributes = z.infer<typeof MemberAttributes>;

const VIEWER = `query AudienceOfViewer { viewer { id segmentCodes level { code rank } riskLevel lifecycleStage affinityKeys } }`;

const membersUnavailable = (reason: string | undefined) =>
  hubError(ErrorCode.SERVICE_UNAVAILABLE, 'members could not say who the member is; try again', {
    serviceName: 'members',
    reason,
  });

/**
 * The calling member's attributes, asked of members through the gateway. A token that names no member of members is
 * FORBIDDEN (nothing may be stored for nobody); SERVICE_UNAVAILABLE when members cannot say.
 */
export async function viewerAttributes(graph: GraphClient, caller: GraphCaller): Promise<MemberAttributes> {
  const response = await graph.query<{ viewer: unknown }>(caller, VIEWER);
  if (response.errors.length > 0 || !response.data) throw membersUnavailable(response.errors[0]?.message);
  if (response.data.viewer === null) throw forbidden('the token names no member');
  const parsed = MemberAttributes.safeParse(response.data.viewer);
  if (!parsed.success) throw membersUnavailable('unexpected answer');
  return parsed.data;
}

const KNOWN_MEMBERS = `query KnownMembers($ids: [ID!]!, $first: Int!) {
  members(filter: { ids: $ids }, first: $first) { edges { node { id } } }
}`;

/** Whether members knows a member, asked for a request that waits until `deadline`. */
interface Question {
  memberId: string;
  deadline: number | null;
}

/** The most member ids one question to members names (members' filter takes up to 1,000). */
const MAX_IDS_PER_QUESTION = 1_000;
/**
 * How long a question waits for more members to ask about: what a member's first claim may wait, mostly hidden by the
 * claim's own reads.
 */
const GATHER_MS = 30;
/** The most member ids remembered: about 10 MB at most. */
const MAX_REMEMBERED = 100_000;

/**
 * Whether the member a token names is one members knows, before anything scarce is given to nobody (a benefit's stock,
 * an invite code, a place in an activity): tokens come from the bank's identity provider, which may know people members
 * does not (yet). Asked with the hub's service identity, the members of the requests that come within GATHER_MS in
 * one question — a rush asks several times fewer than it has claimants — and remembered, since members never removes
 * a member: a member's next claim asks nobody.
 */
export class KnownMembers {
  private readonly remembered = new Set<string>();
  private readonly questions: DataLoader<Question, boolean>;

  constructor(private readonly graph: GraphClient) {
    this.questions = new DataLoader((ids) => this.ask(ids), {
      cache: false,
      maxBatchSize: MAX_IDS_PER_QUESTION,
      batchScheduleFn: (send) => setTimeout(send, GATHER_MS),
    });
  }

  /**
   * FORBIDDEN for a member id members does not know; SERVICE_UNAVAILABLE when members cannot say by `deadline` (the
   * member's request's, epoch ms).
   */
  async require(memberId: string, deadline: number | null): Promise<void> {
    if (this.remembered.has(memberId)) return;
    const answer = this.questions.load({ memberId, deadline });
    // The question waits for the most patient request it asks for; this one gives up when it would have asking
    // alone, before its caller stops listening, and so never goes on to store anything after its caller was told it
    // failed. The question goes on for the others, and its answer is remembered for this member's next request.
    if (deadline !== null && !(await settledWithin(answer, graphCallDeadline(deadline) - Date.now())))
      throw membersUnavailable("no answer by the request's deadline");
    if (!(await answer)) throw forbidden('the token names no member');
  }

  private async ask(questions: readonly Question[]): Promise<boolean[]> {
    const ids = questions.map((question) => question.memberId);
    // Answered in time for the member who waits longest; each request gives up at its own deadline (see require).
    const deadlines = questions.map((question) => question.deadline);
    const response = await this.graph.query<{ members: { edges: { node: { id: string } }[] } }>(
      {
        identity: serviceIdentity('engagement'),
        deadline: deadlines.includes(null) ? null : Math.max(...(deadlines as number[])),
      },
      KNOWN_MEMBERS,
      { ids, first: ids.length },
    );
    if (response.errors.length > 0 || !response.data) throw membersUnavailable(response.errors[0]?.message);
    const known = new Set(response.data.members.edges.map((edge) => edge.node.id));
    // Remembered here, not by the requests: one that gave up waiting does not hear the answer.
    known.forEach((id) => this.remember(id));
    return ids.map((id) => known.has(id));
  }

  private remember(memberId: string): void {
    this.remembered.add(memberId);
    // The oldest goes first: a Set iterates in insertion order.
    if (this.remembered.size > MAX_REMEMBERED) this.remembered.delete(this.remembered.values().next().value!);
  }
}

/** Whether a rule (null: everyone) holds for the member now. */
export const inAudience = (rule: Rule | null, member: MemberAttributes, now: Date): boolean =>
  rule === null || evaluate(rule, profileOfMember(member, { now }));
