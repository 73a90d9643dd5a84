// Elasticsearch query DSL → a JavaScript predicate that answers what Elasticsearch 8 answers
// on the StackLens log mappings, for `stacklens rules test` (which has no Elasticsearch) and
// for the collector's quick "could this event touch that rule?" check. A query, option or
// field it cannot answer exactly is refused with an OfflineRefusal naming it — never guessed.
//
// Modelled on the mappings of field-mappings.ts: text fields are analyzed by the standard
// analyzer (match, match_phrase analyze the query; term, prefix, wildcard, range look at the
// single lowercased words); keyword fields hold exact, case-sensitive strings; numbers, dates
// and booleans compare as values. A field the templates do not map is mapped by Elasticsearch
// from its first value: strings as keyword (the templates' dynamic template), whole numbers
// as long, others as float, booleans as boolean — modelled from each value's JSON type.
// (Not modelled: a string that looks like a date in an unmapped field, which Elasticsearch's
// date detection would map as a date.)
import { DATE_FORMATS, parseEsDate, zoneOffsetMinutes, type DateFormat } from './es-dates.js';
import type { FieldMapping, LogMappings } from './field-mappings.js';
import { indexedBoolean, indexedDate, indexedKeyword, indexedNumber, indexedTokens, isIndexed, parseBoolean, parseNumber } from './indexed-values.js';
import { leavesUnder, sourceValues } from './source-values.js';
import { analyzeStandard, lowercase } from './standard-analyzer.js';

export type DocPredicate = (doc: Record<string, unknown>) => boolean;

/** A query the offline evaluator will not answer; `at` is where in the filter it sits. */
export class OfflineRefusal extends Error {
  constructor(
    readonly at: string,
    readonly reason: string,
  ) {
    super(`${at}: ${reason}`);
  }
}

/** Compile once; the predicate is called for every event. Throws OfflineRefusal. */
export function compileOfflineQuery(query: unknown, mappings: LogMappings, at = 'query'): DocPredicate {
  return compile(query, { mappings }, at);
}

interface Context {
  mappings: LogMappings;
}

type QueryCompiler = (body: unknown, ctx: Context, at: string) => DocPredicate;

const COMPILERS: Record<string, QueryCompiler> = {
  match_all: (body, _ctx, at) => (options(body, 'match_all', at, []), () => true),
  match_none: (body, _ctx, at) => (options(body, 'match_none', at, []), () => false),
  term: compileTerm,
  terms: compileTerms,
  match: (body, ctx, at) => compileMatch(body, ctx, at, 'match'),
  match_phrase: (body, ctx, at) => compileMatch(body, ctx, at, 'match_phrase'),
  exists: compileExists,
  prefix: (body, ctx, at) => compilePattern(body, ctx, at, 'prefix'),
  wildcard: (body, ctx, at) => compilePattern(body, ctx, at, 'wildcard'),
  range: compileRange,
  bool: compileBool,
  constant_score: compileConstantScore,
  dis_max: compileDisMax,
};

/** The query types the offline evaluator answers (anything else is refused). */
export const OFFLINE_QUERY_TYPES = Object.keys(COMPILERS);

function compile(query: unknown, ctx: Context, at: string): DocPredicate {
  if (!isObject(query)) refuse(at, 'a query must be an object such as {term: {field: value}}');
  const types = Object.keys(query);
  if (types.length !== 1) refuse(at, `a query must have exactly one type, got ${types.length} (${types.join(', ')})`);
  const compiler = COMPILERS[types[0]];
  if (!compiler) refuse(at, `query type "${types[0]}" cannot be evaluated offline`);
  return compiler(query[types[0]], ctx, `${at}.${types[0]}`);
}

// ---------------------------------------------------------------------------------------
// Fields and their values

/** A resolved field: its mapping, or none when Elasticsearch maps it dynamically. */
interface Field {
  name: string;
  mapping?: FieldMapping;
}

/** Whether one _source value of the field matches. */
type ValueTest = (raw: unknown, m: FieldMapping) => boolean;
/** The ValueTest for a field of this mapping; throws OfflineRefusal where Elasticsearch would reject the query. */
type TestForKind = (m: FieldMapping) => ValueTest;

const DYNAMIC_LONG: FieldMapping = { kind: 'long', type: 'long' };
const DYNAMIC_FLOAT: FieldMapping = { kind: 'float', type: 'float' };
const DYNAMIC_BOOLEAN: FieldMapping = { kind: 'boolean', type: 'boolean' };

function dynamicMapping(ctx: Context, raw: unknown): FieldMapping | undefined {
  if (typeof raw === 'string') return ctx.mappings.dynamicString;
  if (typeof raw === 'number') return Number.isInteger(raw) ? DYNAMIC_LONG : DYNAMIC_FLOAT;
  if (typeof raw === 'boolean') return DYNAMIC_BOOLEAN;
  return undefined;
}

function resolveField(ctx: Context, name: unknown, type: string, at: string): Field {
  if (typeof name !== 'string' || name === '') refuse(at, `${type} needs a field name`);
  if (name.includes('*')) refuse(at, `${type} on a field pattern ("${name}") cannot be evaluated offline`);
  const lookup = ctx.mappings.field(name);
  if (lookup === 'object') refuse(at, `${name} is an object, not a field; ${type} cannot be evaluated offline on it`);
  if (lookup && 'unsearchable' in lookup) refuse(at, `${type} on ${name}: ${lookup.unsearchable}`);
  return { name, mapping: lookup };
}

/**
 * True when some value of the field passes. A mapped field has one kind (and a query that
 * cannot apply to it is refused now, as Elasticsearch would reject it); an unmapped field's
 * values are tested by their JSON type (a query that cannot apply to that type matches nothing).
 */
function anyValue(ctx: Context, field: Field, testFor: TestForKind): DocPredicate {
  const { name, mapping } = field;
  if (mapping) {
    const test = testFor(mapping);
    return (doc) => sourceValues(doc, name).some((raw) => test(raw, mapping));
  }
  const tests = new Map<FieldMapping, ValueTest>();
  for (const m of [ctx.mappings.dynamicString, DYNAMIC_LONG, DYNAMIC_FLOAT, DYNAMIC_BOOLEAN]) {
    try {
      tests.set(m, testFor(m));
    } catch (err) {
      if (!(err instanceof OfflineRefusal)) throw err;
      tests.set(m, () => false);
    }
  }
  return (doc) =>
    sourceValues(doc, name).some((raw) => {
      const m = dynamicMapping(ctx, raw);
      return m !== undefined && tests.get(m)!(raw, m);
    });
}

// ---------------------------------------------------------------------------------------
// term, terms

function compileTerm(body: unknown, ctx: Context, at: string): DocPredicate {
  const [name, raw] = oneField(body, 'term', at);
  const opts = isObject(raw) ? options(raw, 'term', at, ['value', 'case_insensitive']) : { value: raw };
  const caseInsensitive = flag(opts.case_insensitive, 'case_insensitive', at);
  return anyValue(ctx, resolveField(ctx, name, 'term', at), termTest(opts.value, caseInsensitive, 'term', at));
}

function compileTerms(body: unknown, ctx: Context, at: string): DocPredicate {
  const fields = Object.entries(options(body, 'terms', at, null)).filter(([k]) => k !== 'boost' && k !== '_name');
  if (fields.length !== 1) refuse(at, `terms needs exactly one field, got ${fields.length}`);
  const [name, values] = fields[0];
  if (!Array.isArray(values)) refuse(at, 'terms needs a list of values (a terms lookup cannot be evaluated offline)');
  const tests = values.map((v, i) => termTest(v, false, 'terms', `${at}.${name}[${i}]`));
  const field = resolveField(ctx, name, 'terms', at);
  return anyValue(ctx, field, (m) => {
    if (m.kind === 'keyword') {
      const wanted = new Set(values.map(String));
      return (raw) => {
        const v = indexedKeyword(raw, m);
        return v !== undefined && wanted.has(v);
      };
    }
    if (m.kind === 'text') {
      const wanted = new Set(values.map(String));
      return (raw) => (indexedTokens(raw) ?? []).some((t) => wanted.has(t));
    }
    const each = tests.map((t) => t(m));
    return (raw, mm) => each.some((t) => t(raw, mm));
  });
}

/** One exact value, as Elasticsearch's term query reads it for each field kind. */
function termTest(value: unknown, caseInsensitive: boolean, type: string, at: string): TestForKind {
  if (value === null || value === undefined || typeof value === 'object') refuse(at, `${type} needs a string, number or boolean value`);
  return (m) => {
    if (caseInsensitive && m.kind !== 'keyword' && m.kind !== 'text') refuse(at, `case_insensitive on a ${m.type} field cannot be evaluated offline`);
    switch (m.kind) {
      case 'keyword': {
        const s = String(value);
        if (caseInsensitive) {
          const folded = asciiLower(s);
          return (raw) => {
            const v = indexedKeyword(raw, m);
            return v !== undefined && asciiLower(v) === folded;
          };
        }
        return (raw) => indexedKeyword(raw, m) === s;
      }
      case 'text': {
        // Not analyzed: the value must equal one lowercased word.
        const s = String(value);
        if (caseInsensitive) {
          const folded = asciiLower(s);
          return (raw) => (indexedTokens(raw) ?? []).some((t) => asciiLower(t) === folded);
        }
        if (lowercase(s) !== s) return () => false;
        return (raw) => lowercase(String(raw)).includes(s) && (indexedTokens(raw) ?? []).includes(s);
      }
      case 'date': {
        // A date matches the whole span its text names: "2024-01-01" is that entire day.
        const from = parseEsDate(value);
        const to = parseEsDate(value, { roundUp: true });
        if (from === undefined || to === undefined) refuse(at, `${JSON.stringify(value)} is not a date Elasticsearch reads the same way offline (use ISO 8601 or epoch milliseconds)`);
        return (raw) => {
          const d = indexedDate(raw);
          return d !== undefined && d >= from && d <= to;
        };
      }
      case 'boolean': {
        const b = parseBoolean(value);
        if (b === undefined) refuse(at, `${JSON.stringify(value)} is not a boolean; Elasticsearch rejects it`);
        return (raw) => indexedBoolean(raw) === b;
      }
      default: {
        const n = parseNumber(value);
        if (n === undefined) refuse(at, `${JSON.stringify(value)} is not a number; Elasticsearch rejects it for a ${m.type} field`);
        const wanted = m.kind === 'float' ? Math.fround(n) : n;
        return (raw) => indexedNumber(raw, m) === wanted;
      }
    }
  };
}

// ---------------------------------------------------------------------------------------
// match, match_phrase

// The fuzzy_* options, prefix_length and max_expansions only act with fuzziness (refused).
const MATCH_OPTIONS = ['query', 'operator', 'minimum_should_match', 'zero_terms_query', 'lenient', 'analyzer', 'auto_generate_synonyms_phrase_query', 'prefix_length', 'max_expansions', 'fuzzy_transpositions', 'fuzzy_rewrite'];
const PHRASE_OPTIONS = ['query', 'slop', 'zero_terms_query', 'analyzer'];

function compileMatch(body: unknown, ctx: Context, at: string, type: 'match' | 'match_phrase'): DocPredicate {
  const [name, raw] = oneField(body, type, at);
  if (isObject(raw) && 'fuzziness' in raw) refuse(at, `${type} with fuzziness cannot be evaluated offline`);
  const opts = isObject(raw) ? options(raw, type, at, type === 'match' ? MATCH_OPTIONS : PHRASE_OPTIONS) : { query: raw };
  const query = opts.query;
  if (query === null || query === undefined || typeof query === 'object') refuse(at, `${type} needs a query string`);
  if (opts.slop !== undefined && opts.slop !== 0) refuse(at, 'match_phrase with slop cannot be evaluated offline');
  const operator = String(opts.operator ?? 'or').toLowerCase();
  if (operator !== 'or' && operator !== 'and') refuse(at, `operator must be "or" or "and", got ${JSON.stringify(opts.operator)}`);
  const zeroTerms = String(opts.zero_terms_query ?? 'none').toLowerCase();
  if (zeroTerms !== 'none' && zeroTerms !== 'all') refuse(at, `zero_terms_query must be "none" or "all", got ${JSON.stringify(opts.zero_terms_query)}`);
  const lenient = flag(opts.lenient, 'lenient', at);
  const field = resolveField(ctx, name, type, at);

  if (field.mapping?.kind !== 'text') {
    // Keyword, numeric, date, boolean and unmapped fields are not analyzed: one exact term.
    if (opts.analyzer !== undefined) refuse(at, `${type} with an analyzer on ${name} (not a text field) cannot be evaluated offline`);
    const term = termTest(query, false, type, at);
    return anyValue(ctx, field, (m) => {
      try {
        return term(m);
      } catch (err) {
        if (lenient && err instanceof OfflineRefusal) return () => false; // lenient: a value of the wrong type matches nothing
        throw err;
      }
    });
  }
  if (opts.analyzer !== undefined && opts.analyzer !== 'standard') refuse(at, `analyzer "${opts.analyzer}" cannot be evaluated offline (only the field's standard analyzer)`);
  const words = analyzeStandard(String(query));
  if (words.length === 0) return zeroTerms === 'all' ? () => true : () => false;
  if (words.length === 1) return anyValue(ctx, field, termTest(words[0], false, type, at));
  if (type === 'match_phrase') return phrase(name, words);
  return matchWords(name, words, operator === 'and', opts.minimum_should_match, at);
}

/**
 * A multi-word match: Elasticsearch's bool of one clause per word (duplicates included), SHOULD
 * for "or", MUST for "and". Words may come from different values of a multi-valued field.
 */
function matchWords(name: string, words: string[], and: boolean, msm: unknown, at: string): DocPredicate {
  let required: number;
  if (and) {
    // minimum_should_match counts SHOULD clauses; with "and" there are none, so any positive
    // minimum makes the query match nothing (Elasticsearch 8 does exactly that).
    if (msm !== undefined && minimumShouldMatch(0, msm, at) > 0) return () => false;
    required = words.length;
  } else {
    const n = msm === undefined ? 1 : minimumShouldMatch(words.length, msm, at);
    required = Math.max(n, 1);
  }
  if (required > words.length) return () => false;
  return (doc) => {
    const values = sourceValues(doc, name);
    // A word can only be indexed if it appears in the lowercased text: a cheap first test.
    const lowered = values.map((v) => lowercase(String(v)));
    let possible = 0;
    for (const w of words) if (lowered.some((l) => l.includes(w))) possible++;
    if (possible < required) return false;
    const indexed = new Set<string>();
    for (const v of values) for (const t of indexedTokens(v) ?? []) indexed.add(t);
    let found = 0;
    for (const w of words) if (indexed.has(w)) found++;
    return found >= required;
  };
}

/** Consecutive whole words within one value (values are 100 positions apart in Elasticsearch). */
function phrase(name: string, words: string[]): DocPredicate {
  return (doc) =>
    sourceValues(doc, name).some((raw) => {
      const lowered = lowercase(String(raw));
      if (!words.every((w) => lowered.includes(w))) return false;
      const tokens = indexedTokens(raw) ?? [];
      for (let i = 0; i + words.length <= tokens.length; i++) {
        let j = 0;
        while (j < words.length && tokens[i + j] === words[j]) j++;
        if (j === words.length) return true;
      }
      return false;
    });
}

// ---------------------------------------------------------------------------------------
// exists

function compileExists(body: unknown, ctx: Context, at: string): DocPredicate {
  const opts = options(body, 'exists', at, ['field']);
  const name = opts.field;
  if (typeof name !== 'string' || name === '') refuse(at, 'exists needs "field"');
  if (name.includes('*')) refuse(at, `exists on a field pattern ("${name}") cannot be evaluated offline`);
  const lookup = ctx.mappings.field(name);
  if (lookup && lookup !== 'object' && 'unsearchable' in lookup) refuse(at, `exists on ${name}: ${lookup.unsearchable}`);
  const indexedAt = (path: string, raw: unknown): boolean => {
    const m = ctx.mappings.field(path);
    if (m === 'object' || (m && 'unsearchable' in m)) return false;
    const mapping = m ?? dynamicMapping(ctx, raw);
    return mapping !== undefined && isIndexed(raw, mapping);
  };
  if (lookup === 'object') return (doc) => leavesUnder(doc, name).some(([path, raw]) => indexedAt(path, raw));
  if (lookup) return (doc) => sourceValues(doc, name).some((raw) => isIndexed(raw, lookup));
  // Unmapped: a value here, or (an object mapped dynamically) any value under it.
  return (doc) => sourceValues(doc, name).some((raw) => indexedAt(name, raw)) || leavesUnder(doc, name).some(([path, raw]) => indexedAt(path, raw));
}

// ---------------------------------------------------------------------------------------
// prefix, wildcard

function compilePattern(body: unknown, ctx: Context, at: string, type: 'prefix' | 'wildcard'): DocPredicate {
  const [name, raw] = oneField(body, type, at);
  const opts = isObject(raw) ? options(raw, type, at, ['value', 'case_insensitive', 'rewrite', ...(type === 'wildcard' ? ['wildcard'] : [])]) : { value: raw };
  const value = opts.value ?? opts.wildcard;
  if (value === null || value === undefined || typeof value === 'object') refuse(at, `${type} needs a string value`);
  const caseInsensitive = flag(opts.case_insensitive, 'case_insensitive', at);
  const matches = type === 'prefix' ? prefixMatcher(String(value), caseInsensitive) : wildcardMatcher(String(value), caseInsensitive, at);
  return anyValue(ctx, resolveField(ctx, name, type, at), (m) => {
    if (m.kind === 'keyword') {
      return (rawValue) => {
        const v = indexedKeyword(rawValue, m);
        return v !== undefined && matches(v);
      };
    }
    if (m.kind === 'text') return (rawValue) => (indexedTokens(rawValue) ?? []).some(matches);
    refuse(at, `Elasticsearch rejects ${type} queries on ${m.type} fields (${name})`);
  });
}

function prefixMatcher(prefix: string, caseInsensitive: boolean): (s: string) => boolean {
  if (!caseInsensitive) return (s) => s.startsWith(prefix);
  const folded = asciiLower(prefix);
  return (s) => asciiLower(s.slice(0, prefix.length)) === folded;
}

/** Lucene's wildcard syntax: * any run, ? one character (code point), \ escapes. */
function wildcardMatcher(pattern: string, caseInsensitive: boolean, at: string): (s: string) => boolean {
  let source = '';
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else if (ch === '\\') {
      if (i + 1 >= chars.length) refuse(at, 'a wildcard pattern cannot end with a lone backslash');
      source += literal(chars[++i], caseInsensitive);
    } else source += literal(ch, caseInsensitive);
  }
  const re = new RegExp(`^${source}$`, 'su');
  return (s) => re.test(s);
}

function literal(ch: string, caseInsensitive: boolean): string {
  if (caseInsensitive && /^[A-Za-z]$/.test(ch)) return `[${ch.toLowerCase()}${ch.toUpperCase()}]`;
  if (/^[A-Za-z0-9]$/.test(ch)) return ch;
  return `\\u{${ch.codePointAt(0)!.toString(16)}}`;
}

// ---------------------------------------------------------------------------------------
// range

const RANGE_LEGACY: Record<string, string> = {
  from: 'range "from" cannot be evaluated offline; use gte/gt',
  to: 'range "to" cannot be evaluated offline; use lte/lt',
  include_lower: 'range "include_lower" cannot be evaluated offline; use gt/gte',
  include_upper: 'range "include_upper" cannot be evaluated offline; use lt/lte',
  relation: 'range "relation" cannot be evaluated offline',
};

function compileRange(body: unknown, ctx: Context, at: string): DocPredicate {
  const [name, raw] = oneField(body, 'range', at);
  if (!isObject(raw)) refuse(at, 'range needs bounds such as {gte: 1, lt: 10}');
  for (const key of Object.keys(raw)) if (RANGE_LEGACY[key]) refuse(at, RANGE_LEGACY[key]);
  const b = options(raw, 'range', at, ['gt', 'gte', 'lt', 'lte', 'format', 'time_zone']);
  if (b.gt != null && b.gte != null) refuse(at, 'range with both gt and gte is ambiguous');
  if (b.lt != null && b.lte != null) refuse(at, 'range with both lt and lte is ambiguous');
  const field = resolveField(ctx, name, 'range', at);
  const dateOptions = b.format !== undefined || b.time_zone !== undefined;
  if (dateOptions && field.mapping?.kind !== 'date') refuse(at, `format and time_zone apply to date fields; ${name} is ${field.mapping ? `a ${field.mapping.type} field` : 'not mapped'}`);
  return anyValue(ctx, field, (m) => {
    switch (m.kind) {
      case 'keyword':
      case 'text': {
        const lower = b.gt ?? b.gte;
        const upper = b.lt ?? b.lte;
        for (const v of [lower, upper]) if (v != null && typeof v === 'object') refuse(at, 'range bounds must be strings or numbers');
        const inRange = bounded(lower == null ? undefined : String(lower), b.gt != null, upper == null ? undefined : String(upper), b.lt != null, compareCodePoints);
        if (m.kind === 'text') return (rawValue) => (indexedTokens(rawValue) ?? []).some(inRange);
        return (rawValue) => {
          const v = indexedKeyword(rawValue, m);
          return v !== undefined && inRange(v);
        };
      }
      case 'date': {
        const format = (b.format ?? 'strict_date_optional_time||epoch_millis') as DateFormat;
        if (!DATE_FORMATS.includes(format)) refuse(at, `date format "${b.format}" cannot be evaluated offline (use ${DATE_FORMATS.join(', ')})`);
        let zoneOffset: number | undefined;
        if (b.time_zone !== undefined) {
          zoneOffset = typeof b.time_zone === 'string' ? zoneOffsetMinutes(b.time_zone) : undefined;
          if (zoneOffset === undefined) refuse(at, `time_zone ${JSON.stringify(b.time_zone)} cannot be evaluated offline (use an offset such as +01:00)`);
        }
        // gt and lte round a partial date up ("lte 2024-01-01" includes that whole day); gte and lt round down.
        const date = (v: unknown, roundUp: boolean): number | undefined => {
          if (v == null) return undefined;
          const d = parseEsDate(v, { roundUp, zoneOffsetMinutes: zoneOffset, format });
          if (d === undefined) refuse(at, `${JSON.stringify(v)} is not a date Elasticsearch reads the same way offline (use ISO 8601 or epoch milliseconds)`);
          return d;
        };
        const lower = b.gt != null ? date(b.gt, true) : date(b.gte, false);
        const upper = b.lt != null ? date(b.lt, false) : date(b.lte, true);
        const inRange = bounded(lower, b.gt != null, upper, b.lt != null, (x, y) => x - y);
        return (rawValue) => {
          const d = indexedDate(rawValue);
          return d !== undefined && inRange(d);
        };
      }
      case 'boolean':
        refuse(at, `range on a boolean field (${name}) cannot be evaluated offline`);
      default: {
        const number = (v: unknown): number | undefined => {
          if (v == null) return undefined;
          const n = parseNumber(v);
          if (n === undefined) refuse(at, `${JSON.stringify(v)} is not a number; Elasticsearch rejects it for a ${m.type} field`);
          return m.kind === 'float' ? Math.fround(n) : n;
        };
        const inRange = bounded(b.gt != null ? number(b.gt) : number(b.gte), b.gt != null, b.lt != null ? number(b.lt) : number(b.lte), b.lt != null, (x, y) => x - y);
        return (rawValue) => {
          const n = indexedNumber(rawValue, m);
          return n !== undefined && inRange(n);
        };
      }
    }
  });
}

function bounded<T>(lower: T | undefined, lowerExclusive: boolean, upper: T | undefined, upperExclusive: boolean, compare: (a: T, b: T) => number): (v: T) => boolean {
  return (v) => {
    if (lower !== undefined) {
      const c = compare(v, lower);
      if (c < 0 || (c === 0 && lowerExclusive)) return false;
    }
    if (upper !== undefined) {
      const c = compare(v, upper);
      if (c > 0 || (c === 0 && upperExclusive)) return false;
    }
    return true;
  };
}

/** Keyword order is the order of UTF-8 bytes, i.e. of code points (not UTF-16 units). */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Surrogates (U+D800–DFFF, the start of every code point above U+FFFF) sort after U+E000–FFFF. */
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

// ---------------------------------------------------------------------------------------
// bool, constant_score, dis_max

function compileBool(body: unknown, ctx: Context, at: string): DocPredicate {
  const opts = options(body, 'bool', at, ['must', 'filter', 'should', 'must_not', 'minimum_should_match', 'adjust_pure_negative']);
  if (opts.adjust_pure_negative === false) refuse(at, 'adjust_pure_negative: false cannot be evaluated offline');
  const list = (key: string): DocPredicate[] => {
    const v = opts[key];
    if (v === undefined) return [];
    return (Array.isArray(v) ? v : [v]).map((q, i) => compile(q, ctx, Array.isArray(v) ? `${at}.${key}[${i}]` : `${at}.${key}`));
  };
  const required = [...list('must'), ...list('filter')];
  const should = list('should');
  const mustNot = list('must_not');
  if (required.length + should.length + mustNot.length === 0) return () => true;
  // Only must_not: everything else matches (Elasticsearch adds match_all; minimum_should_match is dropped).
  if (required.length === 0 && should.length === 0) return (doc) => !mustNot.some((p) => p(doc));
  let minShould = opts.minimum_should_match === undefined ? 0 : minimumShouldMatch(should.length, opts.minimum_should_match, at);
  // Without must/filter a bool needs at least one should clause (Lucene), whatever the minimum says.
  if (required.length === 0) minShould = Math.max(minShould, 1);
  return (doc) => {
    for (const p of required) if (!p(doc)) return false;
    for (const p of mustNot) if (p(doc)) return false;
    if (minShould === 0) return true;
    let hits = 0;
    for (const p of should) if (p(doc) && ++hits >= minShould) return true;
    return false;
  };
}

function compileConstantScore(body: unknown, ctx: Context, at: string): DocPredicate {
  const opts = options(body, 'constant_score', at, ['filter']);
  if (opts.filter === undefined) refuse(at, 'constant_score needs "filter"');
  return compile(opts.filter, ctx, `${at}.filter`);
}

function compileDisMax(body: unknown, ctx: Context, at: string): DocPredicate {
  const opts = options(body, 'dis_max', at, ['queries', 'tie_breaker']);
  if (!Array.isArray(opts.queries) || opts.queries.length === 0) refuse(at, 'dis_max needs a non-empty "queries" list');
  const queries = opts.queries.map((q, i) => compile(q, ctx, `${at}.queries[${i}]`));
  return (doc) => queries.some((p) => p(doc));
}

/**
 * Elasticsearch's minimum_should_match for `count` optional clauses: 2, -1, "75%", "-25%"
 * (percentages round toward zero; negatives count from the total). Conditional forms
 * ("3<90%") are refused.
 */
export function minimumShouldMatch(count: number, spec: unknown, at: string): number {
  const text = typeof spec === 'number' ? String(spec) : typeof spec === 'string' ? spec.trim() : '';
  const m = /^(-?\d+)(%?)$/.exec(text);
  if (!m) refuse(at, `minimum_should_match ${JSON.stringify(spec)} cannot be evaluated offline (use a whole number or a percentage)`);
  const n = Number(m[1]);
  const calc = m[2] ? Math.trunc((count * n) / 100) : n;
  return Math.max(0, calc < 0 ? count + calc : calc);
}

// ---------------------------------------------------------------------------------------
// Small helpers

function refuse(at: string, reason: string): never {
  throw new OfflineRefusal(at, reason);
}

function isObject(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The query's options, refusing any this evaluator does not know (boost and _name only score
 * and label, so they are always fine). `allowed` null: any key (the caller checks).
 */
function options(body: unknown, type: string, at: string, allowed: string[] | null): Record<string, any> {
  if (body === undefined || body === null) return {};
  if (!isObject(body)) refuse(at, `${type} needs an object`);
  if (allowed) {
    for (const key of Object.keys(body)) {
      if (key !== 'boost' && key !== '_name' && !allowed.includes(key)) refuse(at, `option "${key}" of ${type} cannot be evaluated offline`);
    }
  }
  return body;
}

/** The single `field: …` entry of term, match, prefix, wildcard and range. */
function oneField(body: unknown, type: string, at: string): [string, unknown] {
  const entries = Object.entries(options(body, type, at, null));
  if (entries.length !== 1) refuse(at, `${type} needs exactly one field, got ${entries.length}`);
  return entries[0];
}

function flag(v: unknown, name: string, at: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') refuse(at, `${name} must be true or false`);
  return v;
}

/**
 * case_insensitive in Elasticsearch 8 folds ASCII letters only ("É" does not match "é"):
 * each ASCII letter of the query also accepts its other case.
 */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
