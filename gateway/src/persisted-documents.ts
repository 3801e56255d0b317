// Persisted documents: channels send the id of an operation from the manifest that `npm run compose` builds out of
// schema/channels/*.graphql, instead of its text. The manifest is Apollo's persisted query manifest format (the id is
// the SHA-256 of the body), so Apollo Client's persisted-queries link and any GraphQL-over-HTTP client that sends
// `documentId` can use it. With PERSISTED_DOCUMENTS_ONLY, text that is not one of the manifest's documents is refused
// before it is parsed: a public gateway then runs only operations the bank built and reviewed. The hub's own subgraphs,
// asking the graph on their caller's behalf (signed with SUBGRAPH_SECRET), are not channels: their text passes.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Request, RequestHandler } from 'express';
import { ErrorCode, sendGraphQLError } from '@bank-hub/shared';
import { fromHub } from './request-context';

export const PERSISTED_DOCUMENTS_PATH = path.resolve(__dirname, '../../schema/persisted-documents.json');

export interface PersistedOperation {
  /** SHA-256 of `body`, in lowercase hex. */
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

export interface PersistedDocumentManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: PersistedOperation[];
}

export const documentIdOf = (body: string): string => createHash('sha256').update(body).digest('hex');

export function loadPersistedDocuments(file = PERSISTED_DOCUMENTS_PATH): PersistedDocumentManifest {
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as PersistedDocumentManifest;
  for (const operation of manifest.operations) {
    if (documentIdOf(operation.body) !== operation.id)
      throw new Error(`persisted document ${operation.name} in ${file} does not match its id`);
  }
  return manifest;
}

/** What a request names: its document id, a persisted query's hash, and its text, as sent. */
interface Sent {
  documentId: unknown;
  hash: unknown;
  query: unknown;
}

function sentIn(req: Request): Sent | null {
  if (req.method === 'GET') {
    const search = new URL(req.url, 'http://gateway').searchParams;
    let extensions: { persistedQuery?: { sha256Hash?: unknown } } | undefined;
    try {
      extensions = JSON.parse(search.get('extensions') ?? 'null') ?? undefined;
    } catch {
      extensions = undefined; // Apollo Server answers a malformed extensions parameter itself
    }
    return {
      documentId: search.get('documentId') ?? undefined,
      hash: extensions?.persistedQuery?.sha256Hash,
      query: search.get('query') ?? undefined,
    };
  }
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const params = body as { documentId?: unknown; query?: unknown; extensions?: unknown };
  const extensions = params.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined;
  return {
    documentId: params.documentId,
    hash:
      typeof extensions === 'object' && extensions !== null
        ? extensions.persistedQuery?.sha256Hash
        : undefined,
    query: params.query,
  };
}

/** Puts a persisted document's text where Apollo Server reads it, in place of its id. */
function substitute(req: Request, body: string): void {
  if (req.method === 'GET') {
    const url = new URL(req.url, 'http://gateway');
    url.searchParams.delete('documentId');
    url.searchParams.set('query', body);
    req.url = url.pathname + url.search;
    return;
  }
  const { documentId: _sent, ...params } = req.body as Record<string, unknown>;
  req.body = { ...params, query: body };
}

/**
 * Accepts `documentId` ("sha256:<hex>" or the bare hex) or a persisted query's `sha256Hash` sent without text, and
 * hands Apollo Server the manifest's text; with `only`, refuses every other operation before it is parsed.
 */
export function persistedDocuments(
  manifest: PersistedDocumentManifest,
  options: { only: boolean; secret: string },
): RequestHandler {
  const { only, secret } = options;
  const byId = new Map(manifest.operations.map((operation) => [operation.id, operation.body]));
  return async (req, res, next) => {
    const sent = sentIn(req);
    if (!sent) return next();
    if (sent.documentId !== undefined) {
      if (sent.query !== undefined) {
        sendGraphQLError(res, 400, ErrorCode.BAD_REQUEST, 'send either documentId or query, not both');
        return;
      }
      const id = typeof sent.documentId === 'string' ? sent.documentId.replace(/^sha256:/, '') : '';
      const body = byId.get(id);
      if (body === undefined) {
        sendGraphQLError(
          res,
          400,
          ErrorCode.PERSISTED_DOCUMENT_NOT_FOUND,
          'no persisted document has this id',
        );
        return;
      }
      substitute(req, body);
      return next();
    }
    if (sent.query === undefined && typeof sent.hash === 'string') {
      const body = byId.get(sent.hash);
      // Without `only`, an unknown hash is Apollo Server's automatic persisted query protocol (it asks for the text).
      if (body !== undefined) substitute(req, body);
      else if (only) {
        sendGraphQLError(
          res,
          400,
          ErrorCode.PERSISTED_DOCUMENT_NOT_FOUND,
          'no persisted document has this id',
        );
        return;
      }
      return next();
    }
    if (
      only &&
      !(typeof sent.query === 'string' && byId.has(documentIdOf(sent.query))) &&
      !(await fromHub(req.headers, secret))
    ) {
      sendGraphQLError(
        res,
        400,
        ErrorCode.PERSISTED_DOCUMENT_REQUIRED,
        'this gateway runs only persisted documents: send a documentId from the manifest',
      );
      return;
    }
    next();
  };
}
