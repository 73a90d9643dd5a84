// Which documents of a redelivered batch Elasticsearch already holds in any backing index of
// their data stream. `op_type: create` with a deterministic _id refuses a second copy only in
// the index it writes to — the data stream's current write index. A batch delivered, then
// rolled over (`POST <stream>/_rollover`, or the lifecycle's rollover), then delivered again
// (the agent retrying after a timeout, or re-reading after a restart) would be created a
// second time in the new write index. The agent marks such batches (wire.ts: REDELIVERY_HEADER);
// for them only, the collector looks every id up in every backing index first, with a
// real-time multi-get (it sees documents not yet refreshed), and creates only what is missing.
import type { Client } from '@elastic/elasticsearch';

/** Ids per multi-get request (× backing indices each). */
const MGET_DOCS = 10_000;

export interface Located {
  index: string;
  id: string;
}

/** Backing indices of each data stream (oldest first); a stream that does not exist has none. */
async function backingIndices(client: Client, streams: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  await Promise.all(
    streams.map(async (name) => {
      const res = await client.indices.resolveIndex({ name, expand_wildcards: 'all' }, { ignore: [404] });
      const ds = (res.data_streams ?? []).find((d) => d.name === name);
      // A plain index (not a data stream) is its own single backing index.
      out.set(name, ds ? ([] as string[]).concat(ds.backing_indices) : (res.indices ?? []).some((i) => i.name === name) ? [name] : []);
    }),
  );
  return out;
}

/**
 * The subset of `docs` (keyed `<data stream>\0<id>`) that already exists in some backing index.
 * Throws when Elasticsearch cannot say (the caller answers 503 and the agent retries): a copy
 * that cannot be ruled out is not created.
 */
export async function findEarlierCopies(client: Client, docs: readonly Located[]): Promise<Set<string>> {
  const found = new Set<string>();
  if (docs.length === 0) return found;
  const streams = [...new Set(docs.map((d) => d.index))];
  const backing = await backingIndices(client, streams);
  const lookups: { _index: string; _id: string; key: string }[] = [];
  for (const d of docs) for (const index of backing.get(d.index) ?? []) lookups.push({ _index: index, _id: d.id, key: `${d.index}\u0000${d.id}` });
  for (let i = 0; i < lookups.length; i += MGET_DOCS) {
    const part = lookups.slice(i, i + MGET_DOCS);
    const res = await client.mget({ docs: part.map(({ _index, _id }) => ({ _index, _id })), _source: false, realtime: true });
    res.docs.forEach((doc, j) => {
      if ('found' in doc && doc.found) found.add(part[j].key);
      else if ('error' in doc && doc.error && doc.error.type !== 'index_not_found_exception') {
        // A backing index deleted meanwhile holds nothing; any other error (a shard without a live copy) leaves it unknown.
        throw new Error(`cannot check ${part[j]._index} for earlier copies: ${doc.error.type}: ${doc.error.reason ?? ''}`);
      }
    });
  }
  return found;
}
