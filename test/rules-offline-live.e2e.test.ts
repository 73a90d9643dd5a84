// Rules offline = live. `stacklens rules test` evaluates rule filters in JavaScript; the
// collector sends the same filters to Elasticsearch. Adversarial documents go into a
// logs-pos data stream with the shipped StackLens templates; every query type the offline
// evaluator supports, with a variety of options, runs in Elasticsearch and offline (through
// the MemorySource that replays use, on the documents as Elasticsearch returns them), and
// the matching ids must be the same. What the evaluator cannot answer exactly, it refuses.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { installTemplates } from '@stacklens/elasticsearch';
import { MemorySource, OFFLINE_QUERY_TYPES, Replay, analyzeStandard, buildRule, ruleSchema, type FilterSpec, type Rule } from '@stacklens/detection';
import { allDocs, esClient, uniqueNamespace } from './helpers.js';

const es = esClient(inject('esUrl'));
const ns = uniqueNamespace();
const stream = `logs-pos-${ns}`;

type Doc = Record<string, unknown>;
const LONG_NOTE = 'n'.repeat(1100); // over the dynamic template's ignore_above (1024): not indexed

// Field types in play: message and error.message are text (standard analyzer); pos.store_id,
// pos.kiosk_id, log.level, error.type keyword; pos.quantity long; pos.total double;
// @timestamp and event.ingested date; labels.* unmapped (dynamic: strings keyword, whole
// numbers long, fractions float, booleans boolean). Each dynamic field keeps one JSON type.
const DOCS: Record<string, Doc> = {
  af: { message: 'authentication failure', pos: { store_id: 'STORE_001', quantity: 1, total: 12.5 }, log: { level: 'error' }, labels: { env: 'prod', tries: 1, ratio: 0.1, flag: true } },
  afs: { message: 'authentication failures', pos: { store_id: 'store_001', quantity: 2.7, total: '3.25' }, log: { level: 'ERROR' }, labels: { env: 'Prod', tries: 3, ratio: 0.25 } },
  upper: { message: 'Authentication FAILURE for user bob', pos: { store_id: 'Store_001', quantity: '5', total: 0.1 }, log: { level: 'warn' }, labels: { env: 'staging', tries: 2, ratio: 2.5, flag: false } },
  hyphen: { message: 'auth-failure on kiosk 7', pos: { store_id: 'STORE_002', quantity: [3, 10] }, error: { type: 'PAYMENT_FAILED', message: 'gateway timeout after 30s' } },
  reversed: { message: 'failure authentication', pos: { store_id: ['STORE_001', 'STORE_003'], quantity: -4 }, labels: { env: ['prod', 'x'] } },
  split: { message: ['authentication', 'failure'], pos: { store_id: null, total: 100 } },
  apostrophe: { message: "user's session can't start: O'Neil", pos: { store_id: [] }, error: { type: 'payment_failed', message: 'Timeout: upstream' } },
  dotted: { message: 'connect to db.example.com failed after 3.5s (retry 1,000)', 'pos.store_id': 'D1', pos: { kiosk_id: 'été' } },
  colon: { message: 'user:bob login failed at 12:30:45', pos: [{ store_id: 'A1' }, { store_id: 'A2', kiosk_id: 'ÉTÉ' }] },
  unicode: { message: 'Zahlung fehlgeschlagen: Straße Ü 日本語 カタカナ 🔥 naïve café', pos: { kiosk_id: 'Kelvin', store_id: 42 } },
  greek: { message: 'ΣΦΑΛΜΑ ΣΥΝΔΕΣΗΣ İstanbul', pos: { kiosk_id: '\u212Aelvin' } },
  underscore: { message: 'ERR_CONN_REFUSED STORE_001 _private', pos: { kiosk_id: '😀' }, labels: { note: LONG_NOTE } },
  empty: { message: '', pos: { kiosk_id: '\uFFFD' } },
  punctuation: { message: '!!! ---', pos: { kiosk_id: 'a*b' } },
  numeric: { message: 12345, pos: { kiosk_id: 'axb' }, labels: { tries: 7 } },
  bare: { pos: { kiosk_id: 'a\\b' } },
  nulls: { message: null, labels: { note: 'short' } },
};
// Dates: the time of day matters for whole-day terms and rounded range bounds.
const TIMES: Record<string, unknown> = {
  af: '2024-03-01T00:00:00Z',
  afs: '2024-03-01T10:00:00.123Z',
  upper: '2024-03-01T23:59:59.999Z',
  hyphen: '2024-03-02T00:00:00Z',
  reversed: '2024-03-01T12:00:00+02:00',
  split: 1709287200000, // epoch millis: 2024-03-01T10:00:00Z
  apostrophe: '2024-03-31T12:00:00Z',
  dotted: '2024-02-29',
};
const INGESTED: Record<string, unknown> = { af: '2024-01-01', afs: '2024-01-01T10:00:00Z', upper: '2024-01-01T10:00:00.000999Z', hyphen: 1704153600000, colon: '2024-01-01T23:59:59.999Z' };

interface Case {
  name: string;
  filter: FilterSpec;
  /** Elasticsearch matches none or all of the documents: allowed, but say so. */
  trivial?: boolean;
}
const q = (name: string, query: Record<string, unknown>, trivial = false): Case => ({ name, filter: { query }, trivial });

const CASES: Case[] = [
  // term / terms: keyword exact and case-sensitive; text holds single lowercased words; values by type.
  q('term keyword', { term: { 'pos.store_id': 'STORE_001' } }),
  q('term keyword case_insensitive', { term: { 'pos.store_id': { value: 'store_001', case_insensitive: true } } }),
  q('term keyword from a number', { term: { 'pos.store_id': 42 } }),
  q('term keyword on dotted key and object arrays', { terms: { 'pos.store_id': ['D1', 'A2'] } }),
  q('term case_insensitive folds ASCII only', { term: { 'pos.kiosk_id': { value: 'ÉTÉ', case_insensitive: true } } }),
  q('term case_insensitive kelvin', { term: { 'pos.kiosk_id': { value: 'kelvin', case_insensitive: true } } }),
  q('term text word', { term: { message: 'failure' } }),
  q('term text capitalised', { term: { message: 'Failure' } }, true),
  q('term text two words', { term: { message: 'authentication failure' } }, true),
  q('term text case_insensitive', { term: { message: { value: 'FAILURE', case_insensitive: true } } }),
  q('term text number', { term: { message: 12345 } }),
  q('term long', { term: { 'pos.quantity': 2 } }),
  q('term long from string', { term: { 'pos.quantity': '5' } }),
  q('term long fraction', { term: { 'pos.quantity': 2.7 } }, true),
  q('term double', { term: { 'pos.total': 3.25 } }),
  q('term date whole day', { term: { 'event.ingested': '2024-01-01' } }),
  q('term date instant', { term: { 'event.ingested': '2024-01-01T10:00:00Z' } }),
  q('term date epoch', { term: { 'event.ingested': 1704153600000 } }),
  q('term dynamic keyword', { term: { 'labels.env': 'prod' } }),
  q('term dynamic long', { term: { 'labels.tries': 3 } }),
  q('term dynamic float', { term: { 'labels.ratio': 0.1 } }),
  q('term dynamic boolean', { term: { 'labels.flag': false } }),
  q('term over ignore_above', { term: { 'labels.note': 'short' } }),
  q('terms text', { terms: { message: ['failures', 'Authentication', 'kiosk'] } }),
  q('terms long', { terms: { 'pos.quantity': [2, '10', 7], boost: 2 } }),
  { name: 'field: value', filter: { 'error.type': 'PAYMENT_FAILED' } },
  { name: 'field: [values] and field: value', filter: { 'log.level': ['error', 'warn'], 'labels.env': 'staging' } },
  { name: 'filter query with a term', filter: { 'pos.store_id': 'STORE_001', query: { match_phrase: { message: 'authentication failure' } } } },

  // match: analyzed like the field; or/and, minimum_should_match, zero_terms_query; one term on other fields.
  q('match or', { match: { message: 'authentication failure' } }),
  q('match and', { match: { message: { query: 'authentication failure', operator: 'and' } } }),
  q('match AND (case)', { match: { message: { query: 'FAILURE authentication', operator: 'AND' } } }),
  q('match msm 2', { match: { message: { query: 'Authentication FAILURE user', minimum_should_match: 2 } } }),
  q('match msm 67%', { match: { message: { query: 'authentication failure bob', minimum_should_match: '67%' } } }),
  q('match msm -1', { match: { message: { query: 'authentication failure bob', minimum_should_match: '-1' } } }),
  q('match msm -34%', { match: { message: { query: 'authentication failure bob', minimum_should_match: '-34%' } } }),
  q('match msm above count', { match: { message: { query: 'authentication failure', minimum_should_match: 3 } } }, true),
  q('match msm ignored for one word', { match: { message: { query: 'failure', minimum_should_match: 3 } } }),
  q('match duplicate words', { match: { message: { query: 'failure failure', minimum_should_match: 2 } } }),
  q('match and with msm', { match: { message: { query: 'authentication failure', operator: 'and', minimum_should_match: 1 } } }, true),
  q('match zero terms none', { match: { message: '!!!' } }, true),
  q('match zero terms all', { match: { message: { query: '--', zero_terms_query: 'all' } } }, true),
  q('match plural', { match: { message: 'failures' } }),
  q('match apostrophe word', { match: { message: "CAN'T" } }),
  q('match dotted word', { match: { message: 'db.example.com' } }),
  q('match dotted word part', { match: { message: 'example' } }, true),
  q('match number with comma', { match: { message: '1,000' } }),
  q('match colon word', { match: { message: 'user:bob' } }),
  q('match colon split', { match: { message: { query: 'user bob', operator: 'and' } } }),
  q('match unicode', { match: { message: { query: 'STRASSE straße', operator: 'or' } } }),
  q('match han per character', { match: { message: { query: '日本', operator: 'and' } } }),
  q('match katakana', { match: { message: 'カタカナ' } }),
  q('match emoji', { match: { message: '🔥' } }),
  q('match final sigma', { match: { message: 'σφαλμα συνδεσησ' } }),
  q('match dotted capital I', { match: { message: 'İSTANBUL' } }),
  q('match underscore word', { match: { message: 'err_conn_refused' } }),
  q('match keyword exact', { match: { 'pos.store_id': 'store_001' } }),
  q('match keyword not analyzed', { match: { 'pos.store_id': 'STORE 001' } }, true),
  q('match long', { match: { 'pos.quantity': '2' } }),
  q('match long lenient', { match: { 'pos.quantity': { query: 'many', lenient: true } } }, true),
  q('match date', { match: { 'event.ingested': '2024-01-01' } }),
  q('match dynamic keyword', { match: { 'labels.env': 'Prod' } }),
  q('match error.message', { match: { 'error.message': 'TIMEOUT' } }),

  // match_phrase: consecutive whole words, within one value.
  q('match_phrase the regression', { match_phrase: { message: 'authentication failure' } }),
  q('match_phrase across hyphen', { match_phrase: { message: 'auth failure' } }),
  q('match_phrase mixed case and punctuation', { match_phrase: { message: 'FAILURE, for!' } }),
  q('match_phrase one word', { match_phrase: { message: 'Failure' } }),
  q('match_phrase three words', { match_phrase: { message: 'failure for user' } }),
  q('match_phrase order matters', { match_phrase: { message: 'failure authentication' } }),
  q('match_phrase numbers', { match_phrase: { message: 'after 3.5s' } }),
  q('match_phrase keyword', { match_phrase: { 'pos.store_id': 'STORE_001' } }),
  q('match_phrase zero terms all', { match_phrase: { message: { query: '...', zero_terms_query: 'all' } } }, true),

  // exists: null, [], missing, ignore_above, objects, unmapped fields.
  q('exists text', { exists: { field: 'message' } }),
  q('exists keyword', { exists: { field: 'pos.store_id' } }),
  q('exists object', { exists: { field: 'pos' } }),
  q('exists dynamic object', { exists: { field: 'labels' } }),
  q('exists over ignore_above', { exists: { field: 'labels.note' } }),
  q('exists date', { exists: { field: 'event.ingested' } }),
  q('exists unknown', { exists: { field: 'nowhere.at_all' } }, true),

  // prefix and wildcard: keyword values, or the lowercased words of text.
  q('prefix keyword', { prefix: { 'pos.store_id': 'STORE' } }),
  q('prefix keyword case_insensitive', { prefix: { 'pos.store_id': { value: 'store_00', case_insensitive: true } } }),
  q('prefix non-ASCII case_insensitive', { prefix: { 'pos.kiosk_id': { value: 'é', case_insensitive: true } } }),
  q('prefix text', { prefix: { message: 'auth' } }),
  q('prefix text capitalised', { prefix: { message: 'Auth' } }, true),
  q('prefix dynamic keyword', { prefix: { 'labels.env': 'pr' } }),
  q('wildcard keyword ?', { wildcard: { 'pos.store_id': 'STORE_00?' } }),
  q('wildcard keyword case_insensitive', { wildcard: { 'pos.store_id': { value: '*_001', case_insensitive: true } } }),
  q('wildcard escaped star', { wildcard: { 'pos.kiosk_id': 'a\\*b' } }),
  q('wildcard ? is one code point', { wildcard: { 'pos.kiosk_id': { wildcard: '?' } } }),
  q('wildcard any char', { wildcard: { 'pos.kiosk_id': 'a?b' } }),
  q('wildcard text', { wildcard: { message: 'fail*s' } }),

  // range: numbers (coerced), dates (partial dates rounded), keywords (code point order), text words.
  q('range long gt fraction', { range: { 'pos.quantity': { gt: 2.5 } } }),
  q('range long gte lt', { range: { 'pos.quantity': { gte: 2, lt: 5 } } }),
  q('range long negative', { range: { 'pos.quantity': { lte: '-1' } } }),
  q('range long unbounded', { range: { 'pos.quantity': {} } }),
  q('range double', { range: { 'pos.total': { gt: 3.25, lte: 100 } } }),
  q('range dynamic long', { range: { 'labels.tries': { gte: 2 } } }),
  q('range dynamic float', { range: { 'labels.ratio': { gt: 0.1 } } }),
  q('range dynamic keyword', { range: { 'labels.env': { gte: 'p', lt: 'q' } } }),
  q('range date day', { range: { '@timestamp': { gte: '2024-03-01', lt: '2024-03-02' } } }),
  q('range date lte rounds up the day', { range: { '@timestamp': { lte: '2024-03-01' } } }),
  q('range date gt rounds up', { range: { '@timestamp': { gt: '2024-03-01' } } }),
  q('range date month rounds to its first day', { range: { '@timestamp': { gt: '2024-03' } } }),
  q('range date hour', { range: { '@timestamp': { gte: '2024-03-01T10', lte: '2024-03-01T10' } } }),
  q('range date with zone', { range: { '@timestamp': { gte: '2024-03-01T12:00:00+02:00' } } }),
  q('range date time_zone', { range: { '@timestamp': { gte: '2024-03-01', lt: '2024-03-02', time_zone: '+05:00' } } }),
  q('range date epoch', { range: { '@timestamp': { gte: 1709287200000, format: 'epoch_millis' } } }),
  q('range date sub-millisecond', { range: { 'event.ingested': { gte: '2024-01-01T10:00:00.0001Z' } } }),
  q('range keyword', { range: { 'pos.store_id': { gte: 'STORE_001', lt: 'STORE_003' } } }),
  q('range keyword code point order', { range: { 'pos.kiosk_id': { gt: '\uFFFD' } } }),
  q('range text words', { range: { message: { gte: 'failure', lt: 'failures' } } }),

  // bool and the compound queries.
  q('bool must and must_not', { bool: { must: [{ match: { message: 'failure' } }], must_not: { term: { 'pos.store_id': 'STORE_001' } } } }),
  q('bool filter makes should optional', { bool: { filter: [{ exists: { field: 'message' } }], should: [{ term: { message: 'bob' } }] } }),
  q('bool should only needs one', { bool: { should: [{ term: { message: 'bob' } }, { term: { 'log.level': 'error' } }] } }),
  q('bool should msm 2', { bool: { should: [{ match: { message: 'failure' } }, { term: { 'log.level': 'error' } }, { range: { 'pos.quantity': { gte: 1 } } }], minimum_should_match: 2 } }),
  q('bool should msm 50%', { bool: { filter: { exists: { field: 'pos' } }, should: [{ match: { message: 'failure' } }, { term: { 'labels.env': 'prod' } }], minimum_should_match: '50%' } }),
  q('bool should msm 0 still needs one', { bool: { should: [{ term: { message: 'bob' } }, { term: { 'log.level': 'error' } }], minimum_should_match: 0 } }),
  q('bool msm without should', { bool: { filter: [{ exists: { field: 'message' } }], minimum_should_match: 1 } }, true),
  q('bool must_not only', { bool: { must_not: [{ exists: { field: 'message' } }], minimum_should_match: 1 } }),
  q('bool must_not with should', { bool: { must_not: [{ exists: { field: 'labels' } }], should: [{ exists: { field: 'pos.kiosk_id' } }] } }),
  q('bool nested', { bool: { must: [{ bool: { should: [{ match_phrase: { message: 'authentication failure' } }, { prefix: { 'pos.kiosk_id': 'a' } }] } }], must_not: [{ bool: { filter: [{ term: { 'log.level': 'error' } }] } }] } }),
  q('bool empty', { bool: {} }, true),
  q('constant_score', { constant_score: { filter: { term: { 'pos.store_id': 'STORE_001' } }, boost: 1.5 } }),
  q('dis_max', { dis_max: { queries: [{ term: { 'pos.store_id': 'A1' } }, { match: { message: 'kiosk' } }], tie_breaker: 0.3 } }),
  q('match_all', { match_all: {} }, true),
  q('match_none', { match_none: {} }, true),
];

/** Refused offline: Elasticsearch evaluates these, the offline evaluator cannot do so exactly. */
const REFUSED: [string, Record<string, unknown>, RegExp][] = [
  ['fuzzy', { fuzzy: { message: 'failur' } }, /query type "fuzzy" cannot be evaluated offline/],
  ['query_string', { query_string: { query: 'authentication AND failure' } }, /query type "query_string" cannot be evaluated offline/],
  ['regexp', { regexp: { 'pos.store_id': 'STORE_00[12]' } }, /query type "regexp" cannot be evaluated offline/],
  ['script', { script: { script: 'true' } }, /query type "script" cannot be evaluated offline/],
  ['match with fuzziness', { match: { message: { query: 'failur', fuzziness: 'AUTO' } } }, /match with fuzziness cannot be evaluated offline/],
  ['match_phrase with slop', { match_phrase: { message: { query: 'failure authentication', slop: 2 } } }, /match_phrase with slop cannot be evaluated offline/],
  ['conditional minimum_should_match', { match: { message: { query: 'a b c', minimum_should_match: '2<75%' } } }, /minimum_should_match "2<75%" cannot be evaluated offline/],
  ['date math', { range: { '@timestamp': { gte: 'now-1h' } } }, /"now-1h" is not a date/],
  ['field pattern', { exists: { field: 'pos.*' } }, /field pattern/],
  ['unsearchable field', { term: { 'event.original': 'x' } }, /term on event\.original: the StackLens templates map it differently \(not searchable in stacklens-ecs@mappings, text in stacklens-deadletter@mappings\)/],
  ['prefix on a number', { prefix: { 'pos.quantity': '1' } }, /Elasticsearch rejects prefix queries on long fields/],
  ['term text on a number', { term: { 'pos.quantity': 'many' } }, /"many" is not a number/],
  ['unknown option', { term: { 'pos.store_id': { value: 'x', flavour: 'y' } } }, /option "flavour" of term cannot be evaluated offline/],
  ['nested in bool', { bool: { filter: [{ term: { 'log.level': 'error' } }], should: [{ fuzzy: { message: 'x' } }] } }, /query\.bool\.should\[0\]: query type "fuzzy"/],
];

/** Seeded random strings of what log lines are made of: ASCII punctuation, accents, CJK, emoji. */
function randomLogText(count: number): string[] {
  const alphabet = [..."aAbZz09 .,:;'\"_-/@#*!?()[]{}<>=+%&$~|\\\t\néüßÉ€£’“”–—…日本한😀🔥ΣİÀ"];
  let seed = 12;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: count }, () => Array.from({ length: 1 + Math.floor(next() * 16) }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''));
}

function rule(filter: FilterSpec, extra: Record<string, unknown> = {}): Rule {
  const spec = ruleSchema.parse({ name: 'offline-live', severity: 'low', dataset: 'pos', namespace: ns, type: 'any', filter, ...extra });
  return buildRule(spec, 'offline-live.yml');
}

let stored: { _id: string; _source: Doc }[] = [];

async function liveIds(r: Rule): Promise<string[]> {
  const res = await es.search({ index: stream, size: 1000, _source: false, query: { bool: { filter: r.filter.clauses } } } as never);
  return res.hits.hits.map((h) => h._id!).sort();
}

/** What a replay keeps: MemorySource.add is where `stacklens rules test` applies the filter. */
function offlineIds(r: Rule): string[] {
  const memory = new MemorySource();
  return stored.filter((d) => memory.add(r, Date.parse(String(d._source['@timestamp'])) || 0, structuredClone(d._source))).map((d) => d._id).sort();
}

describe('rule filters: offline evaluation answers what Elasticsearch answers', () => {
  beforeAll(async () => {
    await installTemplates(es);
    const operations = Object.entries(DOCS).flatMap(([id, doc]) => [
      { create: { _index: stream, _id: id } },
      { '@timestamp': TIMES[id] ?? '2024-04-01T00:00:00Z', ...(INGESTED[id] !== undefined ? { event: { ingested: INGESTED[id] } } : {}), ...doc },
    ]);
    const res = await es.bulk({ operations, refresh: true });
    expect(res.items.filter((i) => i.create?.error).map((i) => `${i.create?._id}: ${i.create?.error?.reason}`)).toEqual([]);
    stored = await allDocs(es, stream);
    expect(stored).toHaveLength(Object.keys(DOCS).length);
  });

  it('covers every query type the offline evaluator claims', () => {
    const used = new Set(CASES.flatMap((c) => JSON.stringify(c.filter).match(/"[a-z_]+":/g) ?? []).map((k) => k.slice(1, -2)));
    expect(OFFLINE_QUERY_TYPES.filter((t) => !used.has(t))).toEqual([]);
  });

  it('splits text into the words Elasticsearch indexes', async () => {
    const texts = [
      ...Object.values(DOCS).flatMap((d) => (d.message === undefined || d.message === null ? [] : [d.message].flat().map(String))),
      "O'Neil's e.g. v1.2.3 a:1 1;2 _x_ __ x\u0301y a\u200bb a\u00adb ½ x² Ⅻ",
      'ภาษาไทย 한국어 ひらがな ｶﾞｷﾞ 👍🏽 👨‍👩‍👧 🇩🇪 1️⃣ © a😀b',
      'ק"ש ק\' 10:30 2024-01-01T10:00:00Z http://example.com/a?b=c foo@bar.com',
      'a'.repeat(300),
    ];
    for (const text of [...texts, ...randomLogText(400)]) {
      const res = await es.indices.analyze({ analyzer: 'standard', text });
      expect({ text, tokens: analyzeStandard(text) }).toEqual({ text, tokens: res.tokens!.map((t) => t.token) });
    }
  });

  it.each(CASES)('$name', async (c) => {
    const r = rule(c.filter);
    expect(r.filter.unsupported).toBeUndefined();
    const live = await liveIds(r);
    expect({ query: c.filter, ids: offlineIds(r) }).toEqual({ query: c.filter, ids: live });
    // A case where Elasticsearch matches nothing or everything tests little; those are marked.
    if (!c.trivial) expect(live.length > 0 && live.length < stored.length, `${c.name} matched ${live.length} of ${stored.length}`).toBe(true);
  });

  it('agrees on every word and word pair of the messages, as term, match, match_phrase, prefix and wildcard', async () => {
    const chunks = stored.flatMap((d) => [d._source.message].flat().filter((m) => m !== null && m !== undefined).map((m) => String(m).split(/\s+/).filter(Boolean)));
    const queries: Record<string, unknown>[] = [];
    for (const words of chunks) {
      words.forEach((w, i) => {
        const lower = w.toLowerCase();
        queries.push({ term: { message: w } }, { term: { message: lower } }, { match: { message: w } }, { prefix: { message: lower.slice(0, 3) } }, { wildcard: { message: `*${lower.slice(-2)}` } });
        if (i + 1 < words.length) {
          const pair = `${w} ${words[i + 1]}`;
          queries.push({ match_phrase: { message: pair } }, { match_phrase: { message: `${words[i + 1]} ${w}` } }, { match: { message: { query: pair, operator: 'and' } } });
        }
      });
    }
    const disagreements: unknown[] = [];
    for (const query of queries) {
      const r = rule({ query });
      const [live, offline] = [await liveIds(r), offlineIds(r)];
      if (JSON.stringify(live) !== JSON.stringify(offline)) disagreements.push({ query, live, offline });
    }
    expect(queries.length).toBeGreaterThan(100);
    expect(disagreements).toEqual([]);
  });

  it.each(REFUSED)('refuses %s offline with a clear message, and still runs live', async (_name, query, message) => {
    const r = rule({ query });
    expect(r.filter.unsupported).toMatch(message);
    expect(() => new Replay([r])).toThrow(message);
    expect(() => new Replay([r])).toThrow(/^rule offline-live \(offline-live\.yml\): filter\.query.*; `stacklens rules test` refuses it/);
    // Live, the collector cannot rule events out with it and leaves the answer to Elasticsearch.
    expect(r.filter.test(stored[0]._source)).toBeUndefined();
  });

  // blacklist / whitelist add their list to the rule's filter: the same events both ways.
  it.each([
    ['blacklist on a keyword (arrays, numbers, case)', { type: 'blacklist', compare_key: 'pos.store_id', blacklist: ['STORE_001', 'A2', 42] }],
    ['whitelist on a keyword (ignore_null)', { type: 'whitelist', compare_key: 'pos.store_id', whitelist: ['STORE_001', 'A2'] }],
    ['whitelist without ignore_null', { type: 'whitelist', compare_key: 'pos.store_id', whitelist: ['STORE_001', 'A2'], ignore_null: false }],
    ['blacklist on text words', { type: 'blacklist', compare_key: 'message', blacklist: ['failure', 'kiosk'] }],
    ['whitelist on a dynamic keyword, with a filter', { type: 'whitelist', compare_key: 'labels.env', whitelist: ['prod'], filter: { exists: { field: 'message' } } }],
  ])('%s: offline matches what Elasticsearch matches', async (_name, extra) => {
    const { filter, ...keys } = extra as Record<string, unknown>;
    const r = rule(filter ? { query: filter } : {}, keys);
    expect(r.filter.unsupported).toBeUndefined();
    const live = await liveIds(r);
    expect(offlineIds(r)).toEqual(live);
    expect(live.length > 0 && live.length < stored.length, `matched ${live.length} of ${stored.length}`).toBe(true);
  });

  it("refuses a percentage_match whose match_filter it cannot evaluate", () => {
    const r = rule({ 'log.level': 'error' }, { type: 'percentage_match', match_filter: { query: { fuzzy: { message: 'failur' } } }, max_percentage: 10, window: '5m' });
    expect(() => new Replay([r])).toThrow(/^rule offline-live \(offline-live\.yml\): match_filter\.query: query type "fuzzy" cannot be evaluated offline; `stacklens rules test` refuses it/);
  });
});
