// Jittered exponential backoff ("full jitter"), so that many agents retrying after an
// outage do not hit the collector in lockstep.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export class Backoff {
  private attempt = 0;
  constructor(private readonly opts: BackoffOptions = { initialMs: 250, maxMs: 30_000 }) {}

  /** The next delay: random in [initial/2, min(max, initial·2^attempt)]. */
  next(): number {
    const ceiling = Math.min(this.opts.maxMs, this.opts.initialMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    const floor = this.opts.initialMs / 2;
    return floor + Math.random() * Math.max(0, ceiling - floor);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
