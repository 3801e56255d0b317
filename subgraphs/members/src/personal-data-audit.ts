// Writes each request's unmasked reads of personal data to the audit trail once the request is answered: one insert
// per request, however many members it showed.
import type { ApolloServerPlugin } from '@apollo/server';
import type { AuditLog } from '@bank-hub/shared';
import type { MembersContext } from './context';

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

export function recordPersonalDataReads(
  audit: AuditLog,
  waitMs = PERSONAL_DATA_AUDIT_WAIT_MS,
): ApolloServerPlugin<MembersContext> {
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
