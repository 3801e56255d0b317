// What the gateway serves to browsers besides GraphQL: the codeless capture snippet (/collect.js), the demo channel
// page (/demo/) and, in development only, a token issuer for demo logins (/dev/token). Files come from web/ at the
// repository root; the pages load nothing from outside the hub.
import path from 'node:path';
import express, { type Router } from 'express';
import { SignJWT } from 'jose';
import { ErrorCode, Scope, sendGraphQLError, type HubConfig } from '@bank-hub/shared';

const WEB = path.resolve(__dirname, '../../web');
/** Scripts, styles and calls from the hub only; images may come from the bank's CDN. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' https: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const SUBJECT = /^[A-Za-z0-9._-]{1,64}$/;
/** What the development issuer grants: client scopes, never the hub's own service scope. */
const KNOWN_SCOPES = new Set<string>([Scope.MEMBER, Scope.OPERATOR, Scope.PII_READ, Scope.BUILDER]);

export function webAssets(config: HubConfig): Router {
  const router = express.Router();
  const secured: express.RequestHandler = (_req, res, next) => {
    res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
    res.setHeader('x-content-type-options', 'nosniff');
    next();
  };
  router.get('/collect.js', secured, (_req, res) => {
    res.setHeader('cache-control', 'public, max-age=300');
    res.sendFile(path.join(WEB, 'collect.js'));
  });
  router.use(
    '/demo',
    secured,
    express.static(path.join(WEB, 'demo'), { index: 'index.html', redirect: true }),
  );
  if (config.NODE_ENV === 'development') {
    // The development issuer: the same token `npm run token` prints, for the demo pages. Never in production.
    router.get('/dev/token', async (req, res) => {
      const subject = String(req.query.sub ?? '');
      const scopes = String(req.query.scope ?? Scope.MEMBER)
        .split(/\s+/)
        .filter(Boolean);
      if (
        !SUBJECT.test(subject) ||
        scopes.length === 0 ||
        !scopes.every((scope) => KNOWN_SCOPES.has(scope))
      ) {
        return sendGraphQLError(
          res,
          400,
          ErrorCode.BAD_USER_INPUT,
          'sub must be an id and scope known scopes',
        );
      }
      const token = await new SignJWT({ scope: scopes.join(' ') })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(subject)
        .setIssuer(config.JWT_ISSUER)
        .setAudience(config.JWT_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('12h')
        .sign(new TextEncoder().encode(config.JWT_SECRET));
      res.type('text/plain').send(token);
    });
  }
  return router;
}
