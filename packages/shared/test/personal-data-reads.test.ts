// Collecting a request's unmasked reads of personal data into one audit entry, and the bounded wait for its write.
import { PersonalDataReads, settledWithin } from '../src/personal-data-reads';

describe('PersonalDataReads', () => {
  it('records nothing when no personal data was shown', () => {
    expect(new PersonalDataReads().take('ops.bob', 'req-1')).toBeNull();
  });

  it('names one member as the target when one was shown', () => {
    const reads = new PersonalDataReads();
    reads.note('M0002', 'phone');
    reads.note('M0002', 'name');
    reads.note('M0002', 'phone');
    expect(reads.take('ops.bob', 'req-1')).toEqual({
      actor: 'ops.bob',
      action: 'readPersonalData',
      targetType: 'Member',
      targetId: 'M0002',
      targetIds: ['M0002'],
      before: null,
      after: { members: [{ id: 'M0002', fields: ['name', 'phone'] }] },
      requestId: 'req-1',
    });
  });

  it('names every member shown, with the fields shown of each, in one entry', () => {
    const reads = new PersonalDataReads();
    reads.note('M0003', 'idNumber');
    reads.note('M0001', 'name');
    reads.note('M0003', 'name');
    expect(reads.take('ops.bob', 'req-2')).toMatchObject({
      targetId: '2 members',
      targetIds: ['M0001', 'M0003'],
      after: {
        members: [
          { id: 'M0001', fields: ['name'] },
          { id: 'M0003', fields: ['name', 'idNumber'] },
        ],
      },
    });
  });

  it('hands each read out once', () => {
    const reads = new PersonalDataReads();
    reads.note('M0001', 'name');
    expect(reads.take('ops.bob', 'req-3')).not.toBeNull();
    expect(reads.take('ops.bob', 'req-3')).toBeNull();
  });
});

describe('settledWithin', () => {
  it('says a write that lands in time was done', async () => {
    await expect(settledWithin(Promise.resolve(), 1_000)).resolves.toBe(true);
  });

  it('stops waiting for a write that hangs after the wait', async () => {
    const started = Date.now();
    await expect(settledWithin(new Promise(() => undefined), 50)).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('does not fail on a write that failed', async () => {
    await expect(settledWithin(Promise.reject(new Error('down')), 1_000)).resolves.toBe(true);
  });
});
