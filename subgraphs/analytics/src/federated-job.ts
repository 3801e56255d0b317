// The hub's own part in federated rounds, as participant `hub`: in each open round listing it, it posts a fresh round
// key with the count of its examples, and once every key is in it trains on its own events, weights its update as the
// round says, masks it with the same domain functions a partner's client runs, posts it and forgets its private key.
// The same pass closes rounds past their deadline, aggregates complete ones a crashed process left, and forgets the
// hub's keys of rounds that closed without its update. Every analytics process runs it: the first key stored for a
// round is the one every process uses, and the same data trains the same update (a replay).
import { randomUUID } from 'node:crypto';
import type { BankCalendar, Logger } from '@bank-hub/shared';
import { exportPrivateKey, importPrivateKey, maskedSubmission, roundKeys } from './domain/federated';
import {
  HUB_PARTICIPANT,
  MAX_SAMPLES,
  advanced,
  hubExamples,
  postKey,
  postUpdate,
  weightOf,
} from './federated';
import type { AnalyticsRepositories } from './models';
import type { FederatedRoundDoc } from './models/federated';

export interface HubParticipation {
  repos: AnalyticsRepositories;
  calendar: BankCalendar;
  logger: Logger;
  bankCurrency: string;
}

/** Rounds looked at per pass: far above the rounds a bank runs at once. */
const ROUNDS_PER_PASS = 100;

/** One pass over the open rounds. */
export async function participateAsHub(deps: HubParticipation, now: Date): Promise<void> {
  const rounds = await deps.repos.federated.listRounds({ open: true, participant: null }, ROUNDS_PER_PASS);
  for (const round of rounds) {
    try {
      await takePart(deps, round, now);
    } catch (error) {
      deps.logger.warn(
        { round: round._id, reason: (error as Error).message },
        'the hub’s part in a round failed',
      );
    }
  }
  // A round closed before the hub posted its update (abandoned, or closed as a slow process stored its key), or a
  // process that died between posting and forgetting, leaves a key nothing will use: each pass forgets those.
  const forgotten = await deps.repos.federated.forgetKeysOfClosedRounds();
  if (forgotten > 0) deps.logger.info({ keys: forgotten }, 'forgot the hub’s keys of closed rounds');
}

async function takePart(deps: HubParticipation, start: FederatedRoundDoc, now: Date): Promise<void> {
  const progress = { repos: deps.repos, now, requestId: `federated:${randomUUID()}` };
  const round = await advanced(progress, start);
  if (!round.participants.includes(HUB_PARTICIPANT)) return;
  const posted = <T extends { participant: string }>(entries: readonly T[]) =>
    entries.find((entry) => entry.participant === HUB_PARTICIPANT);
  if (round.status === 'COLLECTING_KEYS' && !posted(round.keys)) {
    const examples = await examplesOf(deps, round);
    if (examples.length === 0) {
      deps.logger.warn(
        { round: round._id },
        'the hub has no member with events to train on; it posts no key',
      );
      return;
    }
    const fresh = roundKeys();
    const key = await deps.repos.federated.hubKey({
      _id: round._id,
      publicKey: fresh.publicKey,
      privateKey: exportPrivateKey(fresh.privateKey),
      createdAt: now,
    });
    await postKey(
      progress,
      HUB_PARTICIPANT,
      round._id,
      key.publicKey,
      Math.min(examples.length, MAX_SAMPLES),
    );
  } else if (round.status === 'COLLECTING_UPDATES' && !posted(round.updates)) {
    const key = await deps.repos.federated.storedHubKey(round._id);
    const own = posted(round.keys);
    if (!key || !own) {
      deps.logger.warn({ round: round._id }, 'the hub lost its round key; the round will be abandoned');
      return;
    }
    const masked = maskedSubmission(
      { ...round, id: round._id, scale: round.scale! },
      HUB_PARTICIPANT,
      await examplesOf(deps, round),
      weightOf(own),
      importPrivateKey(key.privateKey),
    );
    await postUpdate(progress, HUB_PARTICIPANT, round._id, masked.map(String));
    await deps.repos.federated.forgetHubKey(round._id);
  }
}

/** The hub's examples as of the round's opening: the same in every process and on every pass. */
const examplesOf = (deps: HubParticipation, round: FederatedRoundDoc) =>
  hubExamples(deps.repos, deps.calendar, round.openedAt, deps.bankCurrency).then((examples) =>
    examples.slice(0, MAX_SAMPLES),
  );
