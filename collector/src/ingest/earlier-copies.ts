// Which documents of a redelivered batch Elasticsearch already holds in any backing index of
// their data stream. `op_type: create` with a deterministic _id refuses a second copy only in
// the index it writes to — the data stream's current write index. A batch delivered, then
// rolled over (`POST <stream>/_rollover`, or the lifecycle's rollover), then delivered again
// (the agent retrying after a timeout, or re-reading after a restart) would be created a
// second time in the new write index. The agent marks such batches (wire.ts: REDELIVERY_HEADER,
// with the earliest time the batch can first have been sent); for them only, the collector
// looks the ids up, with a real-time multi-get (it sees documents not yet refreshed), in the
// backing indices that were the write index at some time since then, and creates only what
// is missing.
//
// Bounded, since any agent token can mark any batch: backing indices rolled over before the
// batch's first send are skipped (normally one or two remain), ids are looked up newest index
// first in requests of at most LOOKUP_IDS (found ones are not asked again), and at most
// MAX_CONCURRENT_LOOKUPS batches are looked up at once per collector — marked batches wait for
// each other, never the unmarked ones.
import PQueue from 'p-queue';
import type { Client } from '@elastic/elasticsearch';

const LOOKUP_IDS = 1000;
const MAX_CONCURRENT_LOOKUPS = 2;
/** Clocks of agent and Elasticsearch may differ: an index rolled over this much before `since` is still checked. */
const CLOCK_SKEW_MS = 5 * 60_000;

const lookups = new PQueue({ concurrency: MAX_CONCURRENT_LOOKUPS });

export interface Located {
  index: string;
  id: string;
}

/**
 * The backing indices (newest first) that may hold a document first sent at `since` (epoch ms;
 * undefined: every one): the write index, and each index whose successor was created after
 * `since` — it was still the write index then. A stream that does not exist has none.
 */
async function candidateIndices(client: Client, stream: string, since: number | undefined): Promise<string[]> {
  const res = await client.indices.resolveIndex({ name: stream, expand_wildcards: 'all' }, { ignore: [404] });
  const ds = (res.data_streams ?? []).find((d) => d.name === stream);
  // A plain index (not a data stream) is its own single backing index.
  if (!ds) return (res.indices ?? []).some((i) => i.name === stream) ? [stream] : [];
  const backing = ([] as string[]).concat(ds.backing_indices);
  if (since === undefined || backing.length <= 1) return backing.reverse();
  const settings = await client.indices.getSettings({ index: stream, name: 'index.creation_date', expand_wildcards: 'all' });
  const created = (index: string) => Number(settings[index]?.settings?.index?.creation_date ?? 0);
  const out = [backing[backing.length - 1]];
  for (let i = backing.length - 2; i >= 0; i--) {
    if (created(backing[i + 1]) < since - CLOCK_SKEW_MS) break; // rolled over before the first send: older ones too
    out.push(backing[i]);
  }
  return out;
}

/**
 * The subset of `docs` (keyed `<data stream>\0<id>`) that already exists in a backing index.
 * Throws when Elasticsearch cannot say (the caller answers 503 and the agent retries): a copy
 * that cannot be ruled out is not created.
 */
export function findEarlierCopies(client: Client, docs: readonly Located[], since?: number): Promise<Set<string>> {
  return lookups.add(async () => {
    const found = new Set<string>();
    const byStream = new Map<string, string[]>();
    for (const d of docs) {
      const ids = byStream.get(d.index);
      if (ids) ids.push(d.id);
      else byStream.set(d.index, [d.id]);
    }
    for (const [stream, ids] of byStream) {
      let remaining = ids;
      for (const index of await candidateIndices(client, stream, since)) {
        const missing: string[] = [];
        for (let i = 0; i < remaining.length; i += LOOKUP_IDS) {
          const part = remaining.slice(i, i + LOOKUP_IDS);
          const res = await client.mget({ index, ids: part, _source: false, realtime: true }, { ignore: [404] });
          if (!Array.isArray(res.docs)) {
            missing.push(...part); // the backing index was deleted meanwhile: it holds nothing
            continue;
          }
          res.docs.forEach((doc, j) => {
            if ('found' in doc && doc.found) found.add(`${stream}\u0000${part[j]}`);
            else if ('error' in doc && doc.error && doc.error.type !== 'index_not_found_exception') {
              // A backing index deleted meanwhile holds nothing; any other error (a shard without a live copy) leaves it unknown.
              throw new Error(`cannot check a backing index of ${stream} for earlier copies (${doc.error.type})`);
            } else missing.push(part[j]);
          });
        }
        remaining = missing;
        if (remaining.length === 0) break;
      }
    }
    return found;
  }) as Promise<Set<string>>;
}
