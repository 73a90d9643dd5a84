// A file's content identity: a hash of its first line (at most FINGERPRINT_BYTES). The inode
// follows a file across renames; the fingerprint recognises it — a copy made by logrotate's
// copytruncate is the same file (same first line), a reused inode with new content is not.
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

export const FINGERPRINT_BYTES = 1024;

/** The fingerprint, or undefined while the file has neither a complete first line nor FINGERPRINT_BYTES bytes. */
export async function readFingerprint(fh: FileHandle): Promise<string | undefined> {
  const buf = Buffer.allocUnsafe(FINGERPRINT_BYTES);
  const { bytesRead } = await fh.read(buf, 0, FINGERPRINT_BYTES, 0);
  const nl = buf.subarray(0, bytesRead).indexOf(10);
  const end = nl >= 0 ? nl + 1 : bytesRead === FINGERPRINT_BYTES ? bytesRead : -1;
  if (end < 0) return undefined;
  return createHash('sha1').update(buf.subarray(0, end)).digest('base64url').slice(0, 16);
}
