// Files that cannot be opened or read (permissions, I/O errors): each is tried again with a
// growing pause (1 s doubling up to 1 min) and reported once per change of state — when it
// starts failing, when the reason changes, when it is readable again — not at every scan.
import type { Logger } from '@stacklens/common';

interface Failing {
  code: string;
  failures: number;
  nextTryAt: number;
}

const FIRST_PAUSE_MS = 1000;
const MAX_PAUSE_MS = 60_000;

export class FileErrors {
  private readonly failing = new Map<string, Failing>();
  /** Changes of state into failing (a new file, or a new reason). */
  reported = 0;

  constructor(private readonly log: Logger) {}

  /** Is it time to try this file again? */
  mayTry(path: string, now = Date.now()): boolean {
    const f = this.failing.get(path);
    return !f || now >= f.nextTryAt;
  }

  failed(path: string, err: unknown, now = Date.now()): void {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    const prev = this.failing.get(path);
    const failures = prev && prev.code === code ? prev.failures + 1 : 1;
    this.failing.set(path, { code, failures, nextTryAt: now + Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (failures - 1)) });
    if (failures === 1) {
      this.reported++;
      this.log.error({ path, code, err: (err as Error).message }, 'cannot read file; trying again with a growing pause (up to 1 min), and saying so again only if this changes');
    }
  }

  ok(path: string): void {
    const f = this.failing.get(path);
    if (!f) return;
    this.failing.delete(path);
    this.log.info({ path, after_failures: f.failures }, 'file is readable again');
  }

  /** Forget files that no longer exist (so the map does not grow with deleted paths). */
  retain(paths: Set<string>): void {
    for (const path of this.failing.keys()) if (!paths.has(path)) this.failing.delete(path);
  }

  get size(): number {
    return this.failing.size;
  }
}
