// The live tail's filter against a real Elasticsearch (e2e tier): on real log messages (the
// LogHub sample when present, and the POS and chat-bot simulators' lines), for queries made
// from those messages' own words, three answers must agree —
//   the search API (simple_query_string), the tail's query sent to Elasticsearch, and the
//   tail's in-memory predicate on each document.
// So a client of `stacklens tail` sees what `stacklens search` finds, whichever collector
// indexed the event.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@elastic/elasticsearch';
import { describe, expect, inject, it } from 'vitest';
import { chatbotTurn, posTrafficLine, rng } from '@stacklens/demo';
import { installTemplates } from '@stacklens/elasticsearch';
import { searchQuery } from '../search.js';
import { parseSubscription } from './tail-filter.js';

const es = new Client({ node: inject('esUrl') });
const LOGHUB = fileURLToPath(new URL('../../../../shared/datasets/loghub-2k-dev', import.meta.url));

function corpus(): string[] {
  const rand = rng(42);
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) lines.push(posTrafficLine(rand, 0.3).replace(/^\[[^\]]*\] \[\w+\] /, '').replace(/ \| \{.*$/, ''));
  for (let i = 0; i < 100; i++) lines.push(...chatbotTurn(rand).map((l) => l.slice(0, 300)));
  if (existsSync(LOGHUB)) {
    for (const system of readdirSync(LOGHUB).filter((d) => existsSync(`${LOGHUB}/${d}/${d}_2k.log`))) {
      lines.push(...readFileSync(`${LOGHUB}/${system}/${system}_2k.log`, 'utf8').split('\n').filter(Boolean).slice(0, 150));
    }
  }
  return lines;
}

describe('the live tail filter', () => {
  it('in memory, in Elasticsearch and as the search API: the same documents for queries made of the messages\' own words', async () => {
    await installTemplates(es);
    const ns = `tail${Date.now().toString(36)}`;
    const index = `logs-pos-${ns}`;
    const messages = corpus();
    const ops: unknown[] = [];
    messages.forEach((message, i) => ops.push({ create: { _index: index, _id: String(i) } }, { '@timestamp': new Date().toISOString(), message, data_stream: { type: 'logs', dataset: 'pos', namespace: ns } }));
    const res = await es.bulk({ operations: ops, refresh: true });
    expect(res.errors).toBe(false);

    const rand = rng(7);
    const word = () => {
      const words = messages[Math.floor(rand() * messages.length)].split(/\s+/).filter((w) => /^[A-Za-z][\w.:'-]*$/.test(w));
      return words.length ? words[Math.floor(rand() * words.length)] : 'error';
    };
    const phrase = () => {
      const words = messages[Math.floor(rand() * messages.length)].split(/\s+/);
      const at = Math.floor(rand() * Math.max(1, words.length - 1));
      return `"${words.slice(at, at + 2).join(' ').replaceAll('"', '')}"`;
    };
    const makers = [
      () => word(),
      () => `${word()} ${word()}`,
      () => phrase(),
      () => `${word()} -${word()}`,
      () => `${word()} | ${word()}`,
      () => `${word().replace(/[^A-Za-z0-9_].*$/, '').slice(0, 4) || 'err'}*`,
      () => `${phrase()} | ${word()} -${word()}`,
      () => `(${word()} | ${word()}) -${word()}`,
      () => `${word()} -(${word()} | ${phrase()})`,
      () => `${word()} +${word()} | ${word()}`,
      () => `-${word()}`,
      // Found by an outside tester: punctuation terms, a lone operator, empty phrases.
      () => `${word()} : ${word()}`,
      () => `${word()} - ${word()}`,
      () => `${word()} # —`,
      () => `${word()} | | ${word()}`,
      () => `${word()} + | ${word()}`,
      () => `"${word()}"-${word()}`,
    ];
    for (const fixed of ['*', '-', '|', '""', ':', 'error : timeout', 'price - unknown', 'Product # 999', 'MISSING_PRICE #']) {
      const filter = parseSubscription({ source: ['pos'], query: fixed }, undefined);
      const viaSearch = await es.search({ index, size: 10_000, query: searchQuery({ q: fixed }) as never, _source: false });
      const viaTail = await es.search({ index, size: 10_000, query: filter.esQuery as never, _source: false });
      const inMemory = messages.map((m, id) => (filter.matches(index, { message: m, data_stream: { dataset: 'pos' } }) ? String(id) : undefined)).filter((x): x is string => x !== undefined);
      const idsOf = (hits: any[]) => hits.map((h) => h._id).sort((a: string, b: string) => Number(a) - Number(b));
      expect(idsOf(viaTail.hits.hits), `query ${fixed}: tail in Elasticsearch vs the search API`).toEqual(idsOf(viaSearch.hits.hits));
      expect(inMemory, `query ${fixed}: tail in memory vs in Elasticsearch`).toEqual(idsOf(viaTail.hits.hits));
    }
    const ids = (hits: any[]) => hits.map((h) => h._id).sort((a: string, b: string) => Number(a) - Number(b));
    let nonEmpty = 0;
    for (let i = 0; i < 200; i++) {
      const q = makers[i % makers.length]();
      const filter = parseSubscription({ source: ['pos'], query: q }, undefined);
      const viaSearch = await es.search({ index, size: 10_000, query: searchQuery({ q }) as never, _source: false });
      const viaTail = await es.search({ index, size: 10_000, query: filter.esQuery as never, _source: false });
      const inMemory = messages.map((m, id) => (filter.matches(index, { message: m, data_stream: { dataset: 'pos' } }) ? String(id) : undefined)).filter((x): x is string => x !== undefined);
      expect(ids(viaTail.hits.hits), `query ${q}: tail in Elasticsearch vs the search API`).toEqual(ids(viaSearch.hits.hits));
      expect(inMemory, `query ${q}: tail in memory vs in Elasticsearch`).toEqual(ids(viaTail.hits.hits));
      if (viaSearch.hits.hits.length > 0) nonEmpty++;
    }
    // The queries found something most of the time: the comparison is not of empty answers.
    expect(nonEmpty).toBeGreaterThan(130);
  });
});
