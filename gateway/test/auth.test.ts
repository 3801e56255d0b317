import { SignJWT } from 'jose';
import { createLogger, loadConfig } from '@bank-hub/shared';
import { createTokenVerifier } from '../src/auth';

const config = loadConfig({ NODE_ENV: 'test', JWT_MAX_AGE_S: '3600' });
const verify = createTokenVerifier(config, createLogger('test', 'silent'));
const now = () => Math.floor(Date.now() / 1000);

/** A token with exactly the time claims given (seconds since the epoch; absent when undefined). */
function token(
  times: { iat?: number; exp?: number },
  { subject = 'M0001', scope = 'member' }: { subject?: string; scope?: string } = {},
): Promise<string> {
  const jwt = new SignJWT({ scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE);
  if (times.iat !== undefined) jwt.setIssuedAt(times.iat);
  if (times.exp !== undefined) jwt.setExpirationTime(times.exp);
  return jwt.sign(new TextEncoder().encode(config.JWT_SECRET));
}

describe('createTokenVerifier', () => {
  it.each([
    ['issued now, expiring in ten minutes', () => ({ iat: now(), exp: now() + 600 })],
    ['just younger than JWT_MAX_AGE_S', () => ({ iat: now() - 3_500, exp: now() + 600 })],
  ])('accepts a token %s', async (_name, times) => {
    await expect(verify(`Bearer ${await token(times())}`)).resolves.toMatchObject({ subject: 'M0001' });
  });

  it.each([
    ['without exp', () => ({ iat: now() }), 'no "exp" claim'],
    ['without iat', () => ({ exp: now() + 600 }), 'no "iat" claim'],
    [
      'older than JWT_MAX_AGE_S, though not expired',
      () => ({ iat: now() - 3_700, exp: now() + 600 }),
      'too old',
    ],
    ['expired', () => ({ iat: now() - 700, exp: now() - 100 }), 'expired'],
  ])('refuses a token %s as UNAUTHENTICATED (401)', async (_name, times, message) => {
    const refused = verify(`Bearer ${await token(times())}`);
    await expect(refused).rejects.toMatchObject({
      message: expect.stringContaining(message),
      extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
    });
  });
});

describe('the subject of a member token', () => {
  const fresh = () => ({ iat: now(), exp: now() + 600 });

  it.each([
    ['200 characters long', 'M'.repeat(200)],
    ['with a space', 'M 0001'],
    ['with a $', '$M0001'],
    ['in full-width letters and Chinese', 'Ｍ０００１会员'],
    ['naming a guest', 'guest:device-0001'],
  ])('is refused as UNAUTHENTICATED (401) when %s: it can be no member id', async (_what, subject) => {
    for (const scope of ['member', 'member operator']) {
      await expect(verify(`Bearer ${await token(fresh(), { subject, scope })}`)).rejects.toMatchObject({
        message: expect.stringContaining('not a member id'),
        extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
      });
    }
  });

  it('binds no other token: an operator is whoever the issuer names', async () => {
    await expect(
      verify(`Bearer ${await token(fresh(), { subject: 'auth0|ops alice', scope: 'operator' })}`),
    ).resolves.toMatchObject({ subject: 'auth0|ops alice' });
  });
});
