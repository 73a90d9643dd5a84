// A rule's filter, compiled twice from one definition: into Elasticsearch query clauses
// (the authority for live evaluation) and into a JavaScript predicate (to see which rules a
// freshly indexed batch touches, and for offline replays with `stacklens rules test`).
//
//   filter:
//     error.type: MISSING_PRICE            # field: value — a term
//     log.level: [error, critical]         # field: list — any of (terms)
//     query: { match_phrase: { message: "timed out" } }   # Elasticsearch DSL
//
// The predicate understands the common DSL queries (term, terms, match, match_phrase,
// range, exists, prefix, wildcard, bool). For any other query it answers "unknown": live
// evaluation then asks Elasticsearch; an offline replay refuses the rule with that reason.
import { fieldValues, termEquals } from './fields.js';

export type Scalar = string | number | boolean;
export type FilterSpec = Record<string, unknown>;

/** true/false, or undefined when the predicate cannot decide (a DSL query it does not speak). */
export type Predicate = (doc: Record<string, unknown>) => boolean | undefined;

export interface CompiledFilter {
  clauses: Record<string, unknown>[];
  test: Predicate;
  /** Why the predicate cannot decide some documents (unsupported DSL), if so. */
  unsupported?: string;
}

export function compileFilter(spec: FilterSpec | undefined): CompiledFilter {
  const clauses: Record<string, unknown>[] = [];
  const predicates: Predicate[] = [];
  let unsupported: string | undefined;
  for (const [key, value] of Object.entries(spec ?? {})) {
    if (key === 'query') {
      const q = value as Record<string, unknown>;
      clauses.push(q);
      const compiled = compileQuery(q);
      if (typeof compiled === 'string') {
        unsupported = compiled;
        predicates.push(() => undefined);
      } else predicates.push(compiled);
    } else if (Array.isArray(value)) {
      clauses.push({ terms: { [key]: value } });
      predicates.push((doc) => fieldValues(doc, key).some((v) => value.some((e) => termEquals(v, e))));
    } else {
      clauses.push({ term: { [key]: value } });
      predicates.push((doc) => fieldValues(doc, key).some((v) => termEquals(v, value)));
    }
  }
  const test: Predicate = (doc) => {
    let unknown = false;
    for (const p of predicates) {
      const r = p(doc);
      if (r === false) return false;
      if (r === undefined) unknown = true;
    }
    return unknown ? undefined : true;
  };
  return { clauses, test, unsupported };
}

type Compiled = Predicate | string;

/** A predicate for an Elasticsearch query, or the reason it cannot be evaluated here. */
export function compileQuery(query: Record<string, unknown>): Compiled {
  const entries = Object.entries(query ?? {});
  if (entries.length !== 1) return `a query must have exactly one type, got ${entries.length}`;
  const [type, body] = entries[0] as [string, any];
  switch (type) {
    case 'match_all':
      return () => true;
    case 'term':
    case 'terms': {
      const [field, raw] = Object.entries(body ?? {})[0] ?? [];
      if (!field) return `${type} needs a field`;
      const expected: unknown[] = type === 'terms' ? (raw as unknown[]) : [raw !== null && typeof raw === 'object' ? (raw as any).value : raw];
      if (!Array.isArray(expected)) return 'terms needs a list';
      return (doc) => fieldValues(doc, field).some((v) => expected.some((e) => termEquals(v, e)));
    }
    case 'match':
    case 'match_phrase': {
      const [field, raw] = Object.entries(body ?? {})[0] ?? [];
      if (!field) return `${type} needs a field`;
      const text = String(raw !== null && typeof raw === 'object' ? (raw as any).query : raw).toLowerCase();
      const words = tokens(text);
      return (doc) =>
        fieldValues(doc, field).some((v) => {
          const s = String(v).toLowerCase();
          if (type === 'match_phrase') return tokens(s).join(' ').includes(words.join(' '));
          const have = new Set(tokens(s));
          return words.some((w) => have.has(w));
        });
    }
    case 'exists': {
      const field = body?.field;
      if (typeof field !== 'string') return 'exists needs "field"';
      return (doc) => fieldValues(doc, field).length > 0;
    }
    case 'prefix': {
      const [field, raw] = Object.entries(body ?? {})[0] ?? [];
      const prefix = String(raw !== null && typeof raw === 'object' ? (raw as any).value : raw);
      return (doc) => fieldValues(doc, field).some((v) => String(v).startsWith(prefix));
    }
    case 'wildcard': {
      const [field, raw] = Object.entries(body ?? {})[0] ?? [];
      const pattern = String(raw !== null && typeof raw === 'object' ? (raw as any).value : raw);
      const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
      return (doc) => fieldValues(doc, field).some((v) => re.test(String(v)));
    }
    case 'range': {
      const [field, bounds] = Object.entries(body ?? {})[0] ?? [];
      if (!field || typeof bounds !== 'object') return 'range needs a field and bounds';
      const b = bounds as Record<string, unknown>;
      if (Object.values(b).some((v) => typeof v === 'string' && v.includes('now'))) return 'range with date math ("now") is evaluated by Elasticsearch only';
      return (doc) =>
        fieldValues(doc, field).some((v) => {
          const n = comparable(v);
          return (
            (b.gt === undefined || n > comparable(b.gt)) &&
            (b.gte === undefined || n >= comparable(b.gte)) &&
            (b.lt === undefined || n < comparable(b.lt)) &&
            (b.lte === undefined || n <= comparable(b.lte))
          );
        });
    }
    case 'bool': {
      const list = (k: string): Compiled[] => {
        const v = body?.[k];
        if (v === undefined) return [];
        return (Array.isArray(v) ? v : [v]).map((q) => compileQuery(q));
      };
      const must = [...list('must'), ...list('filter')];
      const should = list('should');
      const mustNot = list('must_not');
      const bad = [...must, ...should, ...mustNot].find((c) => typeof c === 'string');
      if (bad) return bad as string;
      const minShould = Number(body?.minimum_should_match ?? (must.length > 0 ? 0 : should.length > 0 ? 1 : 0));
      return (doc) => {
        let unknown = false;
        for (const p of must as Predicate[]) {
          const r = p(doc);
          if (r === false) return false;
          if (r === undefined) unknown = true;
        }
        for (const p of mustNot as Predicate[]) {
          const r = p(doc);
          if (r === true) return false;
          if (r === undefined) unknown = true;
        }
        if (minShould > 0) {
          let hits = 0;
          for (const p of should as Predicate[]) if (p(doc) === true) hits++;
          if (hits < minShould) return false;
        }
        return unknown ? undefined : true;
      };
    }
    default:
      return `query type "${type}" is evaluated by Elasticsearch only`;
  }
}

function tokens(text: string): string[] {
  return text.split(/[^\p{L}\p{N}_]+/u).filter(Boolean);
}

function comparable(v: unknown): number {
  if (typeof v === 'number') return v;
  const s = String(v);
  const n = Number(s);
  if (s.trim() !== '' && Number.isFinite(n)) return n;
  const t = Date.parse(s);
  return Number.isNaN(t) ? NaN : t;
}
