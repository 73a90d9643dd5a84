// Human-friendly sizes ("1MiB", "512kb") and durations ("250ms", "1m") used in config files.

const SIZE_UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/** Bytes from a number or a string such as "1MiB", "10mb", "4096". Throws with the offending text. */
export function parseBytes(value: string | number): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.floor(value);
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(String(value));
  const unit = m ? (m[2] || 'b').toLowerCase() : '';
  if (!m || !(unit in SIZE_UNITS)) {
    throw new Error(`not a size: "${value}" (use e.g. 512KiB, 10MiB, 1GiB)`);
  }
  return Math.floor(Number(m[1]) * SIZE_UNITS[unit]);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds from a number (ms) or a string such as "250ms", "1s", "5m". */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(String(value));
  if (!m) throw new Error(`not a duration: "${value}" (use e.g. 250ms, 1s, 5m, 1h)`);
  return Number(m[1]) * DURATION_UNITS[m[2]];
}
