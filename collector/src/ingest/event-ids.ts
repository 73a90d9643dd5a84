// Document ids of agents' events, namespaced by who sent them. An event's id is the agent's
// (deterministic: the same line always has the same id, so a retried batch meets 409 and
// never doubles a document), but it is only trusted within its sender: the Elasticsearch _id
// is derived from (authenticated principal, agent id, event id). A token can therefore never
// take an id another token or agent will use — its document would land under its own
// prefix — while a retry by the same agent through the same token still answers duplicates.
//
//   _id = <prefix: 22 base64url chars of SHA-256(principal name \0 agent id)> "." <event id>
//
// The prefix is computed once per request; per event it is a string concatenation, and the
// _id keeps the event id readable (and shares a prefix with its neighbours, which Lucene's
// id lookups like). An event id too long to fit Elasticsearch's 512 bytes after the prefix
// is hashed instead: <prefix> ":" <43 chars of SHA-256(event id)>. The character after the
// fixed-length prefix tells the two forms apart, so no literal id can equal a hashed one.
//
// The principal is named by its id namespace (principals.ts: a named token's name; one shared
// by the plain-string tokens, which may all send as any agent), never by its token: rotating
// a token's secret keeps its ids, and so its duplicates.
import { createHash } from 'node:crypto';
import { MAX_ID_BYTES } from '../validate.js';

/** 22 base64url characters: 132 bits of SHA-256. */
export const ID_PREFIX_CHARS = 22;
/** Bytes left for a literal event id after the prefix and its separator. */
const ROOM = MAX_ID_BYTES - ID_PREFIX_CHARS - 1;

/** The id prefix of everything one agent sends through one principal. */
export function docIdPrefix(idNamespace: string, agentId: string): string {
  // Namespaces cannot hold \0 (principals.ts), so (namespace, agent) ↦ text is one-to-one.
  return createHash('sha256').update(idNamespace).update('\u0000').update(agentId).digest('base64url').slice(0, ID_PREFIX_CHARS);
}

/** The Elasticsearch _id of an event: at most 512 bytes, deterministic, and its sender's alone. */
export function docId(prefix: string, eventId: string): string {
  // UTF-8 takes at most 3 bytes per UTF-16 unit: most ids are decided without counting bytes.
  if (eventId.length * 3 <= ROOM || Buffer.byteLength(eventId) <= ROOM) return `${prefix}.${eventId}`;
  return `${prefix}:${createHash('sha256').update(eventId).digest('base64url')}`;
}
