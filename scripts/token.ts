// npm run token -- M0001 [--scope "operator pii:read"] [--ttl 12h]: prints a development JWT signed with JWT_SECRET.
import { SignJWT, decodeJwt } from 'jose';
import { parseArgs } from 'node:util';
import { CLIENT_SCOPES, ConfigError, MEMBER_ID, MEMBER_ID_RULE, loadConfig, Scope } from '@bank-hub/shared';

const USAGE =
  'usage: npm run -s token -- <subject> [--scope "member" | "operator pii:read builder audit"] [--ttl 12h]';

/** Says why no token is printed, without a stack: the person reading it typed the command a moment ago. */
function refuse(message: string): never {
  console.error(message);
  process.exit(2);
}

function parsedArgs() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: { scope: { type: 'string', default: 'member' }, ttl: { type: 'string', default: '12h' } },
    });
  } catch (error) {
    return refuse(`${(error as Error).message}\n${USAGE}`);
  }
}

async function main(): Promise<void> {
  const { positionals, values } = parsedArgs();
  const subject = positionals[0];
  if (!subject) refuse(USAGE);
  // A misspelt scope would make a token that every operator field refuses, far from the typo.
  const scopes = values.scope.split(/\s+/).filter(Boolean);
  if (scopes.length === 0 || !scopes.every((scope) => CLIENT_SCOPES.has(scope))) {
    refuse(`--scope "${values.scope}": use one or more of ${[...CLIENT_SCOPES].join(', ')}`);
  }
  const config = loadConfig();
  if (config.JWT_JWKS_URL) {
    refuse(
      'JWT_JWKS_URL is set, so the gateway accepts only tokens signed by that issuer, never one signed with JWT_SECRET: get a token from your issuer',
    );
  }
  // The gateway refuses a member token naming no member id.
  if (scopes.includes(Scope.MEMBER) && !MEMBER_ID.test(subject)) {
    refuse(`"${subject}" is not a member id (${MEMBER_ID_RULE}): a member token names a member`);
  }
  const claims = new SignJWT({ scope: values.scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setIssuedAt();
  const ttlRefused = `--ttl "${values.ttl}": use a duration ahead, such as 30m, 12h or 7d`;
  try {
    claims.setExpirationTime(values.ttl);
  } catch {
    refuse(ttlRefused);
  }
  const token = await claims.sign(new TextEncoder().encode(config.JWT_SECRET));
  const { iat = 0, exp = 0 } = decodeJwt(token);
  if (exp <= iat) refuse(ttlRefused);
  if (exp - iat > config.JWT_MAX_AGE_S) {
    console.error(
      `warning: the gateway refuses this token ${config.JWT_MAX_AGE_S} s after issuing it (JWT_MAX_AGE_S), before its --ttl ends`,
    );
  }
  console.log(token);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) refuse(error.message);
  throw error;
});
