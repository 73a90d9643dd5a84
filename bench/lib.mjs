// Helpers shared by the benchmarks.
import { createWriteStream, readFileSync } from 'node:fs';
import { posTrafficLine } from '@stacklens/demo';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The p-th percentile (nearest rank) of a sorted list. */
export const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** Wait until a collector on this port answers /readyz. */
export async function waitReady(port) {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return;
    } catch {}
    if (i > 300) throw new Error(`collector on port ${port} did not become ready`);
    await sleep(100);
  }
}

/** CPU seconds (user + system) a process used, from /proc. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(stat[11]) + Number(stat[12])) / 100;
}

/**
 * Append POS lines to `file` at `rate` lines/s (errorRate share of failures) until stopped;
 * catches up after a slow tick, so the rate holds on a busy machine.
 */
export function backgroundWriter(file, rate, rand, errorRate) {
  const out = createWriteStream(file, { flags: 'a' });
  const started = Date.now();
  let written = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - started) / 1000) * rate) - written;
    let chunk = '';
    for (let i = 0; i < due; i++) chunk += `${posTrafficLine(rand, errorRate)}\n`;
    written += due;
    out.write(chunk);
  }, 10);
  return {
    /** Stop writing; returns lines written and the achieved rate. */
    stop() {
      clearInterval(timer);
      out.end();
      return { written, rate: Math.round(written / ((Date.now() - started) / 1000)) };
    },
  };
}

/**
 * Untimed: a cold Elasticsearch JVM indexes 2–3× slower than a warm one, which would favour
 * whichever leg runs later on the same nodes. Bulk-indexes in rounds of `round` documents until
 * the last three rounds' rates are within 10% of each other (at least `docs`, at most
 * `maxDocs`): several JVMs sharing two cores take far longer to reach their steady state than one.
 */
export async function warmUp(client, name, progress, docs = 150_000, { round = 20_000, maxDocs = 3_000_000 } = {}) {
  const rates = [];
  let n = 0;
  const steady = () => rates.length >= 3 && Math.max(...rates.slice(-3)) / Math.min(...rates.slice(-3)) < 1.1;
  while (n < maxDocs && (n < docs || !steady())) {
    const started = performance.now();
    for (let b = 0; b < round / 2000; b++) {
      const operations = [];
      for (let i = 0; i < 2000; i++, n++) {
        operations.push({ create: { _index: `logs-pos-warmup${name}` } }, { '@timestamp': new Date().toISOString(), message: `warm-up ${n}`, log: { level: 'info' }, pos: { store_id: `STORE_00${n % 5}` } });
      }
      await client.bulk({ operations, filter_path: 'errors' });
    }
    rates.push(round / ((performance.now() - started) / 1000));
    progress(`warming up ${name}: ${n.toLocaleString()} documents, last rounds ${rates.slice(-3).map((r) => Math.round(r).toLocaleString()).join(', ')} docs/s`);
  }
  return { docs: n, rate: rates.at(-1) };
}
