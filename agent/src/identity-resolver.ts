// Which known file a newly opened file is, and where to resume it. The registry remembers
// each file by scope (input data stream), content fingerprint, inode and last path.
//
//  1. Same scope, same first bytes, same inode: the same file (renamed or not) — resume.
//  2. Same scope and first bytes, another inode, and the file known by them is no longer
//     there with that content (rotated and compressed, moved across devices, the copy half
//     of a copytruncate): the same content — resume where it stopped, with a warning (bytes
//     are skipped on the strength of the content alone) and a metric.
//  3. Same first bytes as a file that is still there (a copy, or two files that start with
//     the same header): a different file — read from the start under an identity of its
//     own (the inode breaks the tie), with a warning and a metric.
//  4. Otherwise a new file, read from the start.
// Files of different inputs' data streams never match each other.
import { open, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '@stacklens/common';
import { FINGERPRINT_BYTES, fingerprintOf, headMatches, legacyIdentity, newIdentity, type Fingerprint } from './file-identity.js';
import { inodeKey, type Resolution, type ResumePoint } from './harvester.js';
import type { Registry, RegistryEntry } from './registry.js';

/** A file being read now: which identity it holds. */
export interface LiveFile {
  inode: string;
  path: string;
  key?: string;
}

export interface IdentityCounters {
  /** Files resumed past offset 0 on the strength of their content alone (not seen under that path and inode). */
  resumedByContent: number;
  /** Bytes skipped that way. */
  skippedBytes: number;
  /** Files that share their first bytes with another live file: both are read. */
  collisions: number;
}

export class IdentityResolver {
  readonly counters: IdentityCounters = { resumedByContent: 0, skippedBytes: 0, collisions: 0 };

  constructor(
    private readonly registry: Registry,
    /** Where closed harvesters stopped reading (ahead of acknowledged offsets), by identity. */
    private readonly positions: Map<string, ResumePoint>,
    private readonly liveFiles: () => Iterable<LiveFile>,
    private readonly log: Logger,
  ) {}

  /**
   * With `deferCollision` (a compressed file), a file whose content is still there under
   * another name is not read now: it is the compressed copy of a rotated file that its
   * compressor has not removed yet. Then undefined, and nothing is recorded.
   */
  async resolve(scope: string, head: Buffer, path: string, inode: string, deferCollision = false): Promise<Resolution | undefined> {
    const fp = fingerprintOf(head, true)!;
    const matches: [string, RegistryEntry][] = [];
    let legacy: string | undefined;
    for (const [key, e] of this.registry.values()) {
      // Its first bytes, and the longest head we saw of it: a file that only shares a header line is another file.
      if (e.scope === scope && e.fp && headMatches(head, e.fp) && (!e.check || headMatches(head, e.check))) matches.push([key, e]);
      else if (e.scope === undefined && legacy === undefined && key === legacyIdentity(head)) legacy = key;
    }
    // Longest fingerprint first: the most specific match.
    // Newest first: ISO times compare as strings (not localeCompare, which pages in ICU collation data: ~2.7 MB resident).
    matches.sort((a, b) => b[1].fp!.len - a[1].fp!.len || (a[1].updated < b[1].updated ? 1 : a[1].updated > b[1].updated ? -1 : 0));

    const same = matches.find(([, e]) => e.inode === inode);
    if (same) {
      if (same[1].path !== path) this.log.info({ path, was: same[1].path, identity: same[0] }, 'file was renamed while not tailed; resuming it');
      return this.adopt(same[0], same[1].fp!, scope, path, inode);
    }
    for (const [key, e] of matches) {
      if (await this.stillThere(key, e, inode)) continue;
      const at = this.resumePoint(key);
      if (at && at.offset > 0) {
        this.counters.resumedByContent++;
        this.counters.skippedBytes += at.offset;
        this.log.warn(
          { path, was: e.path, identity: key, offset: at.offset, fingerprint_bytes: e.fp!.len },
          'file has the first bytes of a file that is gone (rotated, compressed or moved): resuming it where that one stopped, skipping bytes already shipped',
        );
      }
      return this.adopt(key, e.fp!, scope, path, inode);
    }
    if (legacy && !(await this.heldElsewhere(legacy, inode))) return this.adopt(legacy, fp, scope, path, inode);
    if (matches.length > 0) {
      if (deferCollision) return undefined;
      this.counters.collisions++;
      const key = this.unusedIdentity(scope, fp, inode);
      this.log.warn(
        { path, other: matches[0][1].path, fingerprint_bytes: matches[0][1].fp!.len },
        'file starts with the same bytes as another file that is still there: reading both (this one from its start, under an identity of its own)',
      );
      return this.adopt(key, fp, scope, path, inode);
    }
    return this.adopt(this.unusedIdentity(scope, fp, inode), fp, scope, path, inode);
  }

  /**
   * A new file's identity. A file that shares only its first line with a known one (both
   * identified while they held just a header) would get that file's identity — and its
   * event ids: the inode, then a counter, tell them apart.
   */
  private unusedIdentity(scope: string, fp: Fingerprint, inode: string): string {
    let key = newIdentity(scope, fp);
    for (let n = 1; this.registry.get(key); n++) key = newIdentity(scope, fp, n === 1 ? inode : `${inode}#${n}`);
    return key;
  }

  /** The longest head seen of a file: kept, so a later file that shares only a shorter prefix is not taken for it. */
  observe(key: string, head: Buffer): void {
    const e = this.registry.get(key);
    if (!e?.fp || head.length <= (e.check?.len ?? e.fp.len)) return;
    this.registry.extendCheck(key, fingerprintOf(head, true)!);
  }

  private adopt(key: string, fp: Fingerprint, scope: string, path: string, inode: string): Resolution {
    this.registry.register(key, { path, scope, fp, inode });
    const at = this.resumePoint(key);
    return { identity: key, fp, offset: at?.offset ?? 0, generation: at?.generation ?? 0 };
  }

  /** The furthest of what was acknowledged and what a closed harvester had read. */
  resumePoint(key: string): ResumePoint | undefined {
    const saved = this.registry.get(key);
    const read = this.positions.get(key);
    if (!saved) return read;
    if (!read || saved.generation > read.generation || (saved.generation === read.generation && saved.offset >= read.offset)) {
      return { offset: saved.offset, generation: saved.generation };
    }
    return read;
  }

  private async heldElsewhere(key: string, inode: string): Promise<boolean> {
    for (const f of this.liveFiles()) if (f.key === key && f.inode !== inode) return true;
    return false;
  }

  /**
   * Is the file known by this entry still on disk, under another inode than the one asking,
   * with the entry's first bytes? The files being read under that identity, and the inode
   * the registry last saw, are looked for where they were last seen and beside it —
   * logrotate renames within a folder (app.log → app.log.1). A file truncated and rewritten
   * in place (copytruncate) no longer starts with them: its old content is gone.
   */
  private async stillThere(key: string, e: RegistryEntry, inode: string): Promise<boolean> {
    const known: { path: string; inode: string }[] = [];
    for (const f of this.liveFiles()) if (f.key === key && f.inode !== inode) known.push(f);
    if (e.inode && e.inode !== inode) known.push({ path: e.path, inode: e.inode });
    for (const k of known) {
      const at = await findInode(k.path, k.inode);
      if (at !== undefined && (await sameContentAt(at, k.inode, e.check ?? e.fp!))) return true;
    }
    return false;
  }
}

/** The path of file `inode` at `path` or in the same folder, if it is there. */
async function findInode(path: string, inode: string): Promise<string | undefined> {
  try {
    if (inodeKey(await stat(path, { bigint: true })) === inode) return path;
  } catch {
    // gone from there: look beside it
  }
  const dir = dirname(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  for (const name of names.slice(0, 10_000)) {
    try {
      if (inodeKey(await stat(join(dir, name), { bigint: true })) === inode) return join(dir, name);
    } catch {
      // vanished meanwhile
    }
  }
  return undefined;
}

/** Does `path` still hold the file `inode` (when given), starting with these bytes? */
async function sameContentAt(path: string, inode: string | undefined, fp: Fingerprint): Promise<boolean> {
  try {
    if (inode !== undefined && inodeKey(await stat(path, { bigint: true })) !== inode) return false;
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.allocUnsafe(FINGERPRINT_BYTES);
      const { bytesRead } = await fh.read(buf, 0, FINGERPRINT_BYTES, 0);
      return headMatches(buf.subarray(0, bytesRead), fp);
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}
