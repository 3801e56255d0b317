// npm run token -- M0001 [--scope "operator pii:read"] [--ttl 12h]: prints a development JWT signed with JWT_SECRET.
import { SignJWT, decodeJwt } from 'jose';
import { parseArgs } from 'node:util';
import { loadConfig } from '@bank-hub/shared';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { scope: { type: 'string', default: 'member' }, ttl: { type: 'string', default: '12h' } },
  });
  const subject = positionals[0];
  if (!subject) {
    console.error(
      'usage: npm run -s token -- <subject> [--scope "member" | "operator pii:read builder"] [--ttl 12h]',
    );
    process.exit(2);
  }
  const config = loadConfig();
  const token = await new SignJWT({ scope: values.scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(values.ttl)
    .sign(new TextEncoder().encode(config.JWT_SECRET));
  const { iat = 0, exp = 0 } = decodeJwt(token);
  if (exp - iat > config.JWT_MAX_AGE_S) {
    console.error(
      `warning: the gateway refuses this token ${config.JWT_MAX_AGE_S} s after issuing it (JWT_MAX_AGE_S), before its --ttl ends`,
    );
  }
  console.log(token);
}

void main();
