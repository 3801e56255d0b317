// npm run token -- M0001 [--scope "operator pii:read"] [--ttl 12h]: prints a development JWT signed with JWT_SECRET.
import { SignJWT, decodeJwt } from 'jose';
import { parseArgs } from 'node:util';
import { loadConfig, Scope } from '@bank-hub/shared';

/** A client's scopes: `service` is the hub's own, and the gateway drops it from client tokens. */
const CLIENT_SCOPES = new Set<string>([Scope.MEMBER, Scope.OPERATOR, Scope.PII_READ, Scope.BUILDER]);

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
  // A misspelt scope would make a token that every operator field refuses, far from the typo.
  const scopes = values.scope.split(/\s+/).filter(Boolean);
  if (scopes.length === 0 || !scopes.every((scope) => CLIENT_SCOPES.has(scope))) {
    console.error(`--scope "${values.scope}": use one or more of ${[...CLIENT_SCOPES].join(', ')}`);
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
