// Hands the event loop back now and then during long synchronous work on one request, so
// /healthz, /metrics and other agents' requests are answered while a huge or hostile body is
// being read. Work is counted in bytes of input handled.

/** Bytes of input handled between two yields: a few milliseconds of scanning or parsing. */
const DEFAULT_SLICE_BYTES = 256 * 1024;

export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Pacer {
  private sinceYield = 0;
  constructor(private readonly sliceBytes = DEFAULT_SLICE_BYTES) {}

  /** Count `bytes` of work done; yields once a slice's worth has been done since the last yield. */
  async spent(bytes: number): Promise<void> {
    this.sinceYield += bytes;
    if (this.sinceYield < this.sliceBytes) return;
    this.sinceYield = 0;
    await yieldToEventLoop();
  }
}
