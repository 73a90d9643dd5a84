// A file's identity: what its event ids and registry entry are keyed by. It must follow a
// file across renames and compression (logrotate), and must not confuse two different files.
//
// Content fingerprint: a hash of the file's first bytes — up to FINGERPRINT_BYTES, and at
// least one complete line (a file with neither is not identified yet). Bytes already written
// never change in an append-only file, so the hash of the first `len` bytes is stable as the
// file grows; its length is kept with it. A single first line (Vector's checksum) collides
// for constant headers, CSV headers and banners; 1 KiB (Filebeat's fingerprint) rarely does,
// but waiting for a full KiB would leave small files unread — hence "up to".
//
// Remaining collisions (two live files with equal first bytes) are told apart by inode: both
// are read, with a warning. Fingerprints are scoped per input data stream, so equal files
// shipped to different data streams never share offsets.
import { createHash } from 'node:crypto';

export const FINGERPRINT_BYTES = 1024;

export interface Fingerprint {
  hash: string;
  /** How many leading bytes the hash covers. */
  len: number;
}

const hashBytes = (bytes: Buffer) => createHash('sha1').update(bytes).digest('base64url').slice(0, 22);

/**
 * The fingerprint of a file's head (its first FINGERPRINT_BYTES bytes or fewer), or undefined
 * while it holds no complete line — unless the head is final (a compressed file's whole text).
 */
export function fingerprintOf(head: Buffer, final = false): Fingerprint | undefined {
  if (head.length < FINGERPRINT_BYTES && head.indexOf(10) < 0 && !final) return undefined;
  const len = Math.min(head.length, FINGERPRINT_BYTES);
  return { hash: hashBytes(head.subarray(0, len)), len };
}

/** Does this head start with the bytes the fingerprint was taken from? */
export function headMatches(head: Buffer, fp: Fingerprint): boolean {
  return head.length >= fp.len && hashBytes(head.subarray(0, fp.len)) === fp.hash;
}

/** The identity of a file first seen with this fingerprint in this scope (input data stream). */
export function newIdentity(scope: string, fp: Fingerprint, tieBreak?: string): string {
  const base = createHash('sha1').update(`${scope}\u0000${fp.hash}\u0000${fp.len}`).digest('base64url').slice(0, 16);
  return tieBreak ? `${base}~${createHash('sha1').update(tieBreak).digest('base64url').slice(0, 6)}` : base;
}

/**
 * The identity used by agents before 0.2 (a hash of the first line, not scoped): registry
 * entries written by them are adopted under this key, so their files keep their event ids.
 */
export function legacyIdentity(head: Buffer): string | undefined {
  const nl = head.indexOf(10);
  const end = nl >= 0 ? nl + 1 : head.length === FINGERPRINT_BYTES ? head.length : -1;
  if (end < 0) return undefined;
  return createHash('sha1').update(head.subarray(0, end)).digest('base64url').slice(0, 16);
}

/** A file's scope: files of one input data stream share offsets by fingerprint, no others. */
export const identityScope = (input: { dataset: string; namespace: string }) => `${input.dataset}/${input.namespace}`;
