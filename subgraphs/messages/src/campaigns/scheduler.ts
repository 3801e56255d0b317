// The scheduler's pass: for every running campaign, open the occurrence that is due (once, or the latest of a
// recurrence) or poll its event trigger, then plan every occurrence still being planned. One process at a time runs
// a pass (a lease); occurrences carry leases of their own, so a pass that dies halfway is finished by the next.
import { randomUUID } from 'node:crypto';
import { occurrenceIdOf, type CampaignDoc } from './model';
import { dueOccurrence, occurrenceKey } from './domain/timing';
import { planOccurrence, pollEventTrigger, type PlannerDependencies } from './planner';

const LEASE_MS = 60_000;
const JOB = 'messages-scheduler';

export interface SchedulerPass {
  ran: boolean;
  opened: number;
  planned: number;
}

/**
 * Opens the occurrence due now, if any; the occurrence is written before the campaign moves past it. Its id is its
 * period for a recurring campaign, so a pass that read the campaign before an edit moved its time finds the period's
 * occurrence open rather than opening a second.
 */
async function openDue(deps: PlannerDependencies, campaign: CampaignDoc, now: Date): Promise<boolean> {
  const { trigger } = campaign;
  if (trigger.kind === 'EVENT') return false;
  const due = dueOccurrence(trigger, campaign.plannedThrough, now, deps.calendar);
  if (!due) return false;
  await deps.repos.campaigns.openOccurrence({
    _id: occurrenceIdOf(campaign._id, occurrenceKey(trigger, due, deps.calendar)),
    campaignId: campaign._id,
    at: due,
    state: 'PLANNING',
    cursor: null,
    pages: 0,
    planned: 0,
    holder: null,
    leaseUntil: new Date(0),
    createdAt: now,
  });
  await deps.repos.campaigns.setRun(
    campaign._id,
    { plannedThrough: due },
    { plannedThrough: campaign.plannedThrough },
  );
  return true;
}

export async function runScheduler(deps: PlannerDependencies, now = new Date()): Promise<SchedulerPass> {
  const holder = randomUUID();
  if (!(await deps.repos.leases.acquire(JOB, holder, LEASE_MS, now)))
    return { ran: false, opened: 0, planned: 0 };
  // A pass can outlast its lease (many campaigns, a slow members, a long event feed, a large audience): it renews it
  // before each campaign and each page of an event poll or an occurrence's planning, and stops once another process
  // has taken it over, so two passes never work side by side.
  const keep = async (): Promise<boolean> => {
    if (await deps.repos.leases.renew(JOB, holder, LEASE_MS, new Date())) return true;
    deps.logger.warn({ job: JOB }, 'another scheduler pass took over; this one stopped');
    return false;
  };
  try {
    const campaigns = await deps.repos.campaigns.running();
    let opened = 0;
    let planned = 0;
    for (const campaign of campaigns) {
      if (!(await keep())) return { ran: true, opened, planned };
      try {
        if (campaign.trigger.kind === 'EVENT') planned += await pollEventTrigger(deps, campaign, now, keep);
        else if (await openDue(deps, campaign, now)) opened += 1;
      } catch (error) {
        // One campaign's trouble (members down for its audience) does not hold the others up.
        deps.logger.warn(
          { campaign: campaign._id, reason: (error as Error).message },
          'campaign not scheduled',
        );
      }
    }
    const running = new Map(campaigns.map((campaign) => [campaign._id, campaign]));
    for (const occurrence of await deps.repos.campaigns.unfinished()) {
      // A paused or withdrawn campaign's occurrence waits, half planned, until it runs again.
      const campaign = running.get(occurrence.campaignId);
      if (!campaign) continue;
      if (!(await keep())) return { ran: true, opened, planned };
      planned += (await planOccurrence(deps, campaign, occurrence, keep)) ?? 0;
    }
    return { ran: true, opened, planned };
  } finally {
    await deps.repos.leases.release(JOB, holder);
  }
}
