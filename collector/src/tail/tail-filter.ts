// What a live-tail client asks for (its JSON message), checked: errors name the field, as the
// API's do. The subscription becomes one Elasticsearch query, used twice: compiled into an
// in-memory predicate (the detection package's offline evaluator, which answers what
// Elasticsearch answers on the StackLens mappings) for the events this collector indexes,
// and sent to Elasticsearch for the events other collectors index (tail-hub.ts).
//
// The query takes the search API's words: words (all must be there), "phrases", -not,
// a | b, and word* (a prefix). It is written as match / match_phrase / prefix clauses on
// `message` rather than simple_query_string, so that both uses answer alike.
import { analyzeStandard, compileOfflineQuery, logMappings, OfflineRefusal, type DocPredicate } from '@stacklens/detection';
import { SEARCH_SOURCES, searchIndices, type SearchSource } from '../search.js';
import { isFieldName } from '../search-export.js';

export const MAX_TAIL_QUERY_CHARS = 1000;
const MAX_QUERY_TERMS = 64;
const MAX_FIELD_FILTERS = 20;
const MAX_VALUES = 50;

export class BadSubscription extends Error {}

/** The message a client sends (and may send again to change what it follows). */
export interface TailSubscription {
  source?: string[] | string;
  query?: string;
  /** Field → value (or values, any of): exact values of keyword fields (pos.store_id, log.level, user.id). */
  fields?: Record<string, string | string[]>;
  /** Events (default true). */
  events?: boolean;
  /** Incident changes: opened, updated, acknowledged, resolved (default false). */
  incidents?: boolean;
}

export interface TailFilter {
  /** Normalized: echoed back in the "subscribed" answer. */
  spec: { source: SearchSource[]; query?: string; fields: Record<string, string[]>; events: boolean; incidents: boolean };
  /** The data streams to read from Elasticsearch. */
  indices: string;
  /** What an event must match in Elasticsearch (sources by index, team scope, words, fields). */
  esQuery: Record<string, unknown>;
  /** The same in memory, for a document this collector just indexed into `index`. */
  matches: (index: string, source: Record<string, unknown>) => boolean;
}

const KNOWN = ['source', 'query', 'fields', 'events', 'incidents'];

type Op = 'must' | 'should';
const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

/**
 * The text query as query DSL on `message`, built the way Elasticsearch's simple_query_string
 * (Lucene's SimpleQueryParser) builds it, so the tail selects what the search API selects:
 * terms are combined left to right — `a | b -c` is (a or b) and not c — with the default
 * operator "and" where none is written; `-` negates the next term, phrase or group; a term
 * ending in `*` is a prefix; a bare term the analyzer splits (product#999) needs each of its
 * words; parentheses group. Not supported (refused, naming the query): ~ (fuzziness, slop)
 * and \ (escapes).
 */
export function textQuery(q: string): Record<string, unknown> {
  if (/[~\\]/.test(q)) throw new BadSubscription('query: ~ and \\ are not supported here; use words, "phrases", -not, a | b, word* and ( )');
  if ((q.match(/"/g)?.length ?? 0) % 2 === 1) throw new BadSubscription('query: a " without its closing quote');
  let at = 0;
  let terms = 0;
  const parse = (depth: number): Record<string, unknown> | undefined => {
    let leaf: Record<string, unknown> | undefined;
    let top: { op: Op; clauses: Record<string, unknown>[] } | undefined;
    let previous: Op | undefined;
    let current: Op | undefined;
    let not = 0;
    const dsl = (t: { op: Op; clauses: Record<string, unknown>[] }) => (t.op === 'must' ? { bool: { must: t.clauses } } : { bool: { should: t.clauses, minimum_should_match: 1 } });
    const add = (branch: Record<string, unknown> | undefined) => {
      // No clause (a term of no words): a pending operator waits for the next one, as in Lucene.
      if (!branch) return;
      if (++terms > MAX_QUERY_TERMS) throw new BadSubscription(`query: at most ${MAX_QUERY_TERMS} terms`);
      if (not % 2 === 1) branch = { bool: { must_not: [branch] } };
      if (!leaf && !top) leaf = branch;
      else {
        const op = current ?? 'must';
        if (!top) top = { op, clauses: [leaf!] };
        else if (previous !== op) top = { op, clauses: [dsl(top)] };
        top.clauses.push(branch);
        previous = op;
      }
      current = undefined;
    };
    // As SimpleQueryParser: `+` and `|` count only after a term and when no operator is pending;
    // `-` counts up to the next term, phrase or group — whitespace cancels it (`a - b` is a b).
    const hasTerm = () => Boolean(leaf || top);
    while (at < q.length) {
      const c = q[at];
      if (c === '-') {
        not++;
        at++;
        continue;
      }
      if (c === '(') {
        at++;
        const sub = parse(depth + 1);
        add(sub);
      } else if (c === ')') {
        at++;
        if (depth > 0) break;
      } else if (c === '"') {
        const close = q.indexOf('"', at + 1);
        const phrase = q.slice(at + 1, close);
        at = close + 1;
        // A phrase of no words is no clause, as in Elasticsearch.
        add(analyzeStandard(phrase).length ? { match_phrase: { message: phrase } } : undefined);
      } else if (c === '|') {
        if (!current && hasTerm()) current = 'should';
        at++;
      } else if (c === '+') {
        if (!current && hasTerm()) current = 'must';
        at++;
      } else if (WHITESPACE.has(c)) at++;
      else {
        let end = at;
        while (end < q.length && !WHITESPACE.has(q[end]) && !'"|+()'.includes(q[end])) end++;
        const token = q.slice(at, end);
        at = end;
        if (token.endsWith('*')) {
          // Indexed words are lower case: a prefix is compared with them as written, lower-cased.
          add({ prefix: { message: token.slice(0, -1).toLowerCase() } });
        } else if (analyzeStandard(token).length) add({ match: { message: { query: token, operator: 'and' } } });
        // A term of punctuation only (":", "#", "—") analyzes to nothing: no clause, as in Elasticsearch.
        else add(undefined);
      }
      not = 0;
    }
    return top ? dsl(top) : leaf;
  };
  // Nothing to search for ("-", "|", '""'): Elasticsearch's query matches nothing then.
  return parse(0) ?? { match_none: {} };
}

/** The dataset of a data stream logs-<dataset>-<namespace> (or a backing index of one). */
function datasetOfIndex(index: string): string | undefined {
  const m = /^(?:\.ds-)?logs-(.+)-[^-]+$/.exec(index.replace(/-\d{4}\.\d{2}\.\d{2}-\d+$/, ''));
  return m?.[1];
}

/**
 * `scope`: for a team-scoped principal, the team filter (security/team-scope.ts) for
 * Elasticsearch and the datasets it covers for memory; undefined when unscoped.
 */
export function parseSubscription(raw: unknown, scope: { filter: Record<string, unknown>; datasets: string[] } | undefined): TailFilter {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new BadSubscription('the subscription must be a JSON object: {"source": ["pos"], "query": "…", "fields": {"pos.store_id": "STORE_001"}, "incidents": true}');
  const sub = raw as Record<string, unknown>;
  const unknown = Object.keys(sub).filter((k) => !KNOWN.includes(k));
  if (unknown.length) throw new BadSubscription(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => k.slice(0, 50)).join(', ')}; expected ${KNOWN.join(', ')}`);

  const sources = sub.source === undefined ? [] : Array.isArray(sub.source) ? sub.source : typeof sub.source === 'string' ? sub.source.split(',').filter(Boolean) : null;
  if (!sources || !sources.every((s) => typeof s === 'string')) throw new BadSubscription('source: a list of pos, chatbot, chat (or one of them)');
  for (const s of sources) if (!(s in SEARCH_SOURCES)) throw new BadSubscription(`source: "${String(s).slice(0, 50)}" is not one of ${Object.keys(SEARCH_SOURCES).join(', ')}`);

  if (sub.query !== undefined && (typeof sub.query !== 'string' || sub.query.length > MAX_TAIL_QUERY_CHARS)) throw new BadSubscription(`query: a string of at most ${MAX_TAIL_QUERY_CHARS} characters (the search API's syntax)`);

  // Field names come from the client: "__proto__" must be a field, not this object's prototype.
  const fields: Record<string, string[]> = Object.create(null);
  if (sub.fields !== undefined) {
    if (sub.fields === null || typeof sub.fields !== 'object' || Array.isArray(sub.fields)) throw new BadSubscription('fields: an object of field name → value or list of values');
    const entries = Object.entries(sub.fields as Record<string, unknown>);
    if (entries.length > MAX_FIELD_FILTERS) throw new BadSubscription(`fields: at most ${MAX_FIELD_FILTERS} fields`);
    for (const [name, value] of entries) {
      if (!isFieldName(name)) throw new BadSubscription(`fields: "${name.slice(0, 100)}" is not a field name (letters, digits, _ @ . -)`);
      const values = Array.isArray(value) ? value : [value];
      if (values.length === 0 || values.length > MAX_VALUES || !values.every((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) {
        throw new BadSubscription(`fields.${name}: a value or a list of 1 to ${MAX_VALUES} values (strings, numbers or booleans)`);
      }
      fields[name] = values.map(String);
    }
  }
  for (const flag of ['events', 'incidents'] as const) {
    if (sub[flag] !== undefined && typeof sub[flag] !== 'boolean') throw new BadSubscription(`${flag}: true or false`);
  }
  const events = sub.events !== false;
  const incidents = sub.incidents === true;
  if (!events && !incidents) throw new BadSubscription('events and incidents are both false: nothing to follow');

  const source = (sources.length ? sources : Object.keys(SEARCH_SOURCES)) as SearchSource[];
  const q = typeof sub.query === 'string' && sub.query.trim() ? sub.query.trim() : undefined;
  const content: unknown[] = [];
  if (q) content.push(textQuery(q));
  for (const [name, values] of Object.entries(fields)) content.push({ terms: { [name]: values } });
  content.push({ bool: { must_not: [{ term: { 'chat.deleted': true } }] } });
  const contentQuery = { bool: { filter: content } };

  let predicate: DocPredicate;
  try {
    predicate = compileOfflineQuery(contentQuery, logMappings());
  } catch (err) {
    // The evaluator refuses what it cannot answer exactly (a field filter on a field whose kind it cannot know).
    if (err instanceof OfflineRefusal) throw new BadSubscription(`fields: ${err.reason}`);
    throw err;
  }
  const datasets = new Set<string>(source.map((s) => s));
  const allowed = scope ? new Set(scope.datasets) : undefined;
  return {
    spec: { source, query: q, fields, events, incidents },
    indices: searchIndices({ source }),
    esQuery: { bool: { filter: scope ? [contentQuery, scope.filter] : [contentQuery] } },
    matches: (index, doc) => {
      const dataset = datasetOfIndex(index);
      if (!dataset || !datasets.has(dataset) || (allowed && !allowed.has(dataset))) return false;
      return predicate(doc);
    },
  };
}
