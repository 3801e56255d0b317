// Who saw personal data unmasked: the fields of each member a request showed, collected while it resolves and recorded
// once, as one audit entry, when it is answered (see personal-data-audit.ts).
import type { AuditRecord } from '@bank-hub/shared';

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
