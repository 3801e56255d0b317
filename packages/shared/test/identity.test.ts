// The signed identity carries a guest's device id, and guest member ids are told apart from real ones.
import {
  ANONYMOUS,
  MEMBER_ID,
  deviceOfGuest,
  guestMemberId,
  requireMember,
  signInternalIdentity,
  verifyInternalIdentity,
} from '../src/identity';

const SECRET = 's'.repeat(40);

describe('the internal identity', () => {
  it('carries a guest device id through signing and verifying', async () => {
    const token = await signInternalIdentity({ ...ANONYMOUS, deviceId: 'device-0001' }, SECRET);
    expect(await verifyInternalIdentity(token, SECRET)).toEqual({
      subject: null,
      scopes: new Set(),
      deviceId: 'device-0001',
    });
  });

  it('signs each device apart, never reusing another device’s token', async () => {
    const [one, other, none] = await Promise.all([
      signInternalIdentity({ ...ANONYMOUS, deviceId: 'device-0001' }, SECRET),
      signInternalIdentity({ ...ANONYMOUS, deviceId: 'device-0002' }, SECRET),
      signInternalIdentity(ANONYMOUS, SECRET),
    ]);
    expect(new Set([one, other, none]).size).toBe(3);
    expect((await verifyInternalIdentity(other, SECRET)).deviceId).toBe('device-0002');
    expect((await verifyInternalIdentity(none, SECRET)).deviceId).toBeNull();
  });
});

describe('guest member ids', () => {
  it('name the device they were made from', () => {
    expect(guestMemberId('device-0001')).toBe('guest:device-0001');
    expect(deviceOfGuest('guest:device-0001')).toBe('device-0001');
  });

  it.each(['M0001', 'device-0001', 'guest:', 'guest:short', 'guest:device 0001', 'Guest:device-0001'])(
    'are not %s',
    (id) => expect(deviceOfGuest(id)).toBeNull(),
  );
});

describe('member ids', () => {
  it.each(['M0001', 'm-1_a', 'x'.repeat(64)])('may be %s', (id) => expect(MEMBER_ID.test(id)).toBe(true));

  it.each([
    '',
    'x'.repeat(65),
    'M 0001',
    '$M0001',
    'M.0001',
    'Ｍ０００１',
    '会员',
    'guest:device-0001',
    'M0001\n',
  ])('are not %j', (id) => expect(MEMBER_ID.test(id)).toBe(false));

  it('are what a member token must name for the caller to act as a member', () => {
    expect(requireMember({ subject: 'M0001', scopes: new Set(['member']) })).toBe('M0001');
    expect(() => requireMember({ subject: 'guest:device-0001', scopes: new Set(['member']) })).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) }),
    );
  });
});
