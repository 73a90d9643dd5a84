// findEarlierCopies against the real Elasticsearch: documents found in any backing index of a
// data stream (real time: not refreshed yet included), indices rolled over before the batch's
// first send skipped, a stream that does not exist holding nothing.
import { Client } from '@elastic/elasticsearch';
import { installTemplates } from '@stacklens/elasticsearch';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findEarlierCopies } from './earlier-copies.js';

const es = new Client({ node: inject('esUrl') });
const stream = `logs-earlier-t${Date.now().toString(36)}`;
const key = (id: string) => `${stream}\u0000${id}`;
const doc = () => ({ '@timestamp': new Date().toISOString(), message: 'x' });

beforeAll(async () => {
  await installTemplates(es);
  await es.create({ index: stream, id: 'in-first', document: doc() });
  await es.indices.rollover({ alias: stream });
  await es.create({ index: stream, id: 'in-second', document: doc() });
  await es.indices.rollover({ alias: stream });
  await es.create({ index: stream, id: 'in-write-index', document: doc() }); // not refreshed
});

// The stream stays (a name of its own per run): this distribution has no data stream API to delete it.
afterAll(async () => {
  await es.close();
});

const ids = ['in-first', 'in-second', 'in-write-index', 'nowhere'].map((id) => ({ index: stream, id }));

describe('findEarlierCopies', () => {
  it('finds every id already in some backing index, unrefreshed ones too', async () => {
    expect(await findEarlierCopies(es, ids)).toEqual(new Set([key('in-first'), key('in-second'), key('in-write-index')]));
    expect(await findEarlierCopies(es, ids, Date.now() - 60_000)).toEqual(new Set([key('in-first'), key('in-second'), key('in-write-index')]));
  });

  it('skips backing indices rolled over before the batch can first have been sent', async () => {
    // A first send an hour from now: only the write index was written to since.
    expect(await findEarlierCopies(es, ids, Date.now() + 3_600_000)).toEqual(new Set([key('in-write-index')]));
  });

  it('a data stream that does not exist holds nothing; lookups run side by side without losing answers', async () => {
    expect(await findEarlierCopies(es, [{ index: `${stream}-none`, id: 'a' }])).toEqual(new Set());
    const answers = await Promise.all(Array.from({ length: 5 }, () => findEarlierCopies(es, ids)));
    for (const a of answers) expect(a.size).toBe(3);
  });
});
