// The registry: for each file (by fingerprint, see fingerprint.ts) the offset up to which
// the collector has acknowledged every line. Written atomically (temp file, fsync, rename), so a crash
// leaves either the old or the new registry, never half of one.
import { mkdirSync, readFileSync, openSync, writeSync, fsyncSync, closeSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export interface RegistryEntry {
  path: string;
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
    mkdirSync(stateDir, { recursive: true });
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

  /** Record an acknowledged position (in memory; flush() persists it). Offsets never go back within a generation. */
  commit(key: string, path: string, offset: number, generation: number): void {
    const prev = this.entries.get(key);
    if (prev && (prev.generation > generation || (prev.generation === generation && prev.offset >= offset))) return;
    this.entries.set(key, { path, offset, generation, updated: new Date().toISOString() });
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
    const body = JSON.stringify({ version: 1, files: Object.fromEntries(this.entries) });
    const fd = openSync(tmp, 'w');
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
