// The registry: for each file (by identity, see file-identity.ts) the offset up to which
// the collector has acknowledged every line, and what identifies the file again after a
// restart (its scope, content fingerprint, inode and last path). Written atomically (temp file, fsync, rename), so a crash
// leaves either the old or the new registry, never half of one.
import { chmodSync, mkdirSync, readFileSync, openSync, writeSync, fsyncSync, closeSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Fingerprint } from './file-identity.js';

export interface RegistryEntry {
  path: string;
  /** The input data stream the file belongs to (absent in entries written before 0.2). */
  scope?: string;
  /** Fingerprint of the file's first bytes (absent in entries written before 0.2). */
  fp?: Fingerprint;
  /** device:inode when last seen. */
  inode?: string;
  /**
   * Fingerprint of the longest head seen (up to 1 KiB): `fp` may cover only a header line
   * (the file was identified early); a file taken for this one must match this too.
   */
  check?: Fingerprint;
  offset: number;
  /** Bumped each time the file was truncated, so the lines written after it get new ids. */
  generation: number;
  updated: string;
}

export class Registry {
  private readonly file: string;
  private entries = new Map<string, RegistryEntry>();
  private dirty = false;

  constructor(stateDir: string) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    // Offsets and spooled lines are the agent's alone, also in a directory an older version made.
    try {
      chmodSync(stateDir, 0o700);
    } catch {
      // not ours to change (a shared mount): the files themselves are still 0600
    }
    this.file = join(stateDir, 'registry.json');
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as { files?: Record<string, RegistryEntry> };
      for (const [key, entry] of Object.entries(data.files ?? {})) this.entries.set(key, entry);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(`cannot read the registry ${this.file}: ${(err as Error).message}`);
      }
    }
  }

  get(key: string): RegistryEntry | undefined {
    return this.entries.get(key);
  }

  /** Every entry (for matching a file by content). */
  values(): IterableIterator<[string, RegistryEntry]> {
    return this.entries.entries();
  }

  /** Remember a file as soon as it is identified (offset 0 unless known), so later files can be told apart from it. */
  register(key: string, info: { path: string; scope: string; fp: Fingerprint; inode: string }): void {
    const prev = this.entries.get(key);
    if (prev && prev.path === info.path && prev.inode === info.inode && prev.fp?.len === info.fp.len && prev.scope === info.scope) return;
    this.entries.set(key, { offset: 0, generation: 0, ...prev, ...info, updated: new Date().toISOString() });
    this.dirty = true;
  }

  /** The file has grown past what `check` covers: remember the longer head. */
  extendCheck(key: string, check: Fingerprint): void {
    const e = this.entries.get(key);
    if (!e || (e.check && e.check.len >= check.len)) return;
    e.check = check;
    this.dirty = true;
  }

  /** Record an acknowledged position (in memory; flush() persists it). Offsets never go back within a generation. */
  commit(key: string, path: string, offset: number, generation: number): void {
    const prev = this.entries.get(key);
    if (prev && (prev.generation > generation || (prev.generation === generation && prev.offset >= offset))) return;
    this.entries.set(key, { ...prev, path, offset, generation, updated: new Date().toISOString() });
    this.dirty = true;
  }

  /**
   * Forget files not committed to for `ttlMs` (vanished or long idle) unless still tailed.
   * Safe even for a file that comes back: its lines keep their ids, so re-reading it is
   * deduplicated by Elasticsearch.
   */
  cleanup(ttlMs: number, active: Set<string>, now = Date.now()): number {
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (!active.has(key) && now - Date.parse(entry.updated) > ttlMs) {
        this.entries.delete(key);
        removed++;
      }
    }
    if (removed > 0) this.dirty = true;
    return removed;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Persist if anything changed: write a temp file, fsync it, rename it over the old one. */
  flush(): void {
    if (!this.dirty) return;
    const tmp = `${this.file}.tmp`;
    const body = JSON.stringify({ version: 2, files: Object.fromEntries(this.entries) });
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, body);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    this.dirty = false;
  }
}
