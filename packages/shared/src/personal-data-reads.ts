// Who saw personal data unmasked: the fields of each member a request showed, collected while it resolves and written
// to the subgraph's audit trail once, as one entry, when it is answered. Members shows the profile; messages shows
// messages rendered with a member's name.
import type { ApolloServerPlugin } from '@apollo/server';
import type { AuditLog, AuditRecord } from './audit';
import type { BaseContext } from './server';

/** The fields of MemberProfile that are personal data, in the order an entry lists them. */
export const PERSONAL_FIELDS = ['name', 'phone', 'idNumber'] as const;
export type PersonalField = (typeof PERSONAL_FIELDS)[number];

export const READ_PERSONAL_DATA = 'readPersonalData';

export class PersonalDataReads {
  private readonly shown = new Map<string, Set<PersonalField>>();

  note(memberId: string, field: PersonalField): void {
    const fields = this.shown.get(memberId) ?? new Set<PersonalField>();
    fields.add(field);
    this.shown.set(memberId, fields);
  }

  /**
   * The audit entry of what was shown since the last call, or null when nothing was: one entry naming every member
   * (targetIds, so a reader asking for one member finds it) and the fields shown of each, never their values.
   */
  take(actor: string, requestId: string): Omit<AuditRecord, 'at' | '_id'> | null {
    if (this.shown.size === 0) return null;
    const members = [...this.shown]
      .map(([id, fields]) => ({ id, fields: PERSONAL_FIELDS.filter((field) => fields.has(field)) }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    this.shown.clear();
    const [only] = members;
    return {
      actor,
      action: READ_PERSONAL_DATA,
      targetType: 'Member',
      targetId: members.length === 1 ? only!.id : `${members.length} members`,
      targetIds: members.map((member) => member.id),
      before: null,
      after: { members },
      requestId,
    };
  }
}

/**
 * How long an answer waits for its audit entry. Normally the entry is stored long before, so it is in the trail by the
 * time the caller has the data (and a process that dies right after answering loses nothing). A database slow to take
 * it must not hold up every screen that shows a member: after this the answer goes, the write goes on, and an entry
 * that cannot be written is logged in full (ids and field names, never values), so the read still leaves a trace.
 */
export const PERSONAL_DATA_AUDIT_WAIT_MS = 500;

/** Resolves once `write` settles or `waitMs` passed, whichever is first: true if the write was done by then. */
export function settledWithin(write: Promise<unknown>, waitMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), waitMs);
  });
  const done = write.then(
    () => true,
    () => true,
  );
  return Promise.race([done, waited]).finally(() => clearTimeout(timer));
}

/** Writes each request's unmasked reads of personal data to `audit` once the request is answered: one insert. */
export function recordPersonalDataReads<C extends BaseContext & { personalDataReads: PersonalDataReads }>(
  audit: AuditLog,
  waitMs = PERSONAL_DATA_AUDIT_WAIT_MS,
): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue: ctx }) {
          const entry = ctx.personalDataReads.take(ctx.identity.subject ?? 'anonymous', ctx.requestId);
          if (!entry) return;
          const write = audit.record(entry).catch((error: unknown) => {
            ctx.logger.error(
              { entry, reason: error instanceof Error ? error.message : String(error) },
              'the audit entry of a personal data read could not be written',
            );
          });
          if (!(await settledWithin(write, waitMs)))
            ctx.logger.warn(
              { entry, waitMs },
              'the audit entry of a personal data read is still being written: answered without waiting longer',
            );
        },
      };
    },
  };
}
