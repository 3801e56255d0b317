// What the gateway serves to browsers besides GraphQL: the codeless capture snippet (/collect.js), the demo channel
// page (/demo/), the explorer (/graphiql/) and the operations console (/console/), and in development only the
// landing page at / and a token issuer for demo logins (/dev/token). Files come from web/ at the repository root (the
// explorer and the console from its build, web/dist/); they load nothing from outside the hub — only the landing page
// tries Apollo Sandbox from Apollo's CDN, and links to the explorer either way.
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler, type Router } from 'express';
import { SignJWT } from 'jose';
import {
  CLIENT_SCOPES,
  ErrorCode,
  MEMBER_ID,
  Scope,
  issuesDevelopmentTokens,
  sendGraphQLError,
  type HubConfig,
} from '@bank-hub/shared';

const WEB = path.resolve(__dirname, '../../web');
const WEB_DIST = path.join(WEB, 'dist');
const LOCKED_DOWN = "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
/** Scripts, styles and calls from the hub only; images may come from the bank's CDN. */
const CONTENT_SECURITY_POLICY = `default-src 'self'; img-src 'self' https: data:; ${LOCKED_DOWN}`;
/**
 * GraphiQL's editor (Monaco) writes its theme and token colours into <style> elements it creates at run time, which a
 * policy without 'unsafe-inline' for styles would block. Scripts stay the hub's own: no inline script, no eval.
 */
const EXPLORER_POLICY = `default-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; ${LOCKED_DOWN}`;
/** The landing page may load Apollo Sandbox's script from Apollo's CDN and frame Sandbox itself. */
const SANDBOX_SCRIPT_ORIGIN = 'https://embeddable-sandbox.cdn.apollographql.com';
const SANDBOX_FRAME_ORIGIN = 'https://sandbox.embed.apollographql.com';
const LANDING_POLICY = `default-src 'self'; script-src 'self' ${SANDBOX_SCRIPT_ORIGIN}; frame-src ${SANDBOX_FRAME_ORIGIN}; ${LOCKED_DOWN}`;
const SUBJECT = /^[A-Za-z0-9._-]{1,64}$/;

const securedBy =
  (policy: string): RequestHandler =>
  (_req, res, next) => {
    res.setHeader('content-security-policy', policy);
    res.setHeader('x-content-type-options', 'nosniff');
    // frame-ancestors 'none' says it to current browsers; X-Frame-Options to those that predate it.
    res.setHeader('x-frame-options', 'DENY');
    // Addresses of operators' screens (a member id in the path, a filter in the query) stay in the hub: images on
    // the bank's CDN and links opened from a page learn nothing of them.
    res.setHeader('referrer-policy', 'no-referrer');
    next();
  };

/**
 * A single-page app built into web/dist/<folder>: its files, and its page for every other path under `mount` (the app
 * routes by path). Until `npm run build` has made it, a plain answer says so.
 */
function builtApp(mount: string, folder: string, policy: string): Router {
  const router = express.Router();
  const root = path.join(WEB_DIST, folder);
  const page = path.join(root, 'index.html');
  router.use(mount, securedBy(policy), express.static(root, { index: false, redirect: false }));
  router.get([mount, `${mount}/{*rest}`], (_req, res) => {
    if (!existsSync(page)) {
      res.status(503).type('text/plain').send(`${mount} is not built yet: run npm run build`);
      return;
    }
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(page);
  });
  return router;
}

/** A browser asking for the root page (rather than a GraphQL GET, which names a query). */
const wantsPage = (req: express.Request) =>
  req.query.query === undefined && (req.headers.accept ?? '').includes('text/html');

export function webAssets(config: HubConfig): Router {
  const router = express.Router();
  const secured = securedBy(CONTENT_SECURITY_POLICY);
  router.get('/collect.js', secured, (_req, res) => {
    res.setHeader('cache-control', 'public, max-age=300');
    res.sendFile(path.join(WEB, 'collect.js'));
  });
  router.use(
    '/demo',
    secured,
    (_req, res, next) => {
      // The demo page is opened with ?token=…: no Referer it sends carries more than the hub's origin.
      res.setHeader('referrer-policy', 'strict-origin');
      next();
    },
    express.static(path.join(WEB, 'demo'), { index: 'index.html', redirect: true }),
  );
  router.use(builtApp('/graphiql', 'graphiql', EXPLORER_POLICY));
  router.use(builtApp('/console', 'console', CONTENT_SECURITY_POLICY));
  if (config.NODE_ENV !== 'production') {
    const landing = securedBy(LANDING_POLICY);
    router.use('/landing', landing, express.static(path.join(WEB, 'landing'), { index: false }));
    router.get('/', (req, res, next) => {
      if (!wantsPage(req)) return next();
      landing(req, res, () => res.sendFile(path.join(WEB, 'landing', 'index.html')));
    });
  }
  if (issuesDevelopmentTokens(config)) {
    // The development issuer: the same token `npm run token` prints, for the demo pages. Never in production, nor
    // with a secret of the deployment's own.
    router.get('/dev/token', async (req, res) => {
      const subject = String(req.query.sub ?? '');
      const scopes = String(req.query.scope ?? Scope.MEMBER)
        .split(/\s+/)
        .filter(Boolean);
      if (
        !SUBJECT.test(subject) ||
        scopes.length === 0 ||
        !scopes.every((scope) => CLIENT_SCOPES.has(scope)) ||
        // The gateway would refuse a member token naming no member id.
        (scopes.includes(Scope.MEMBER) && !MEMBER_ID.test(subject))
      ) {
        return sendGraphQLError(
          res,
          400,
          ErrorCode.BAD_USER_INPUT,
          'sub must be an id (a member id for a member token) and scope known scopes',
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
