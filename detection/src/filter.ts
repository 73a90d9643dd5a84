// A rule's filter, compiled twice from one definition: into Elasticsearch query clauses
// (the authority for live evaluation) and into a JavaScript predicate (to see which rules a
// freshly indexed batch touches, and for offline replays with `stacklens rules test`).
//
//   filter:
//     error.type: MISSING_PRICE            # field: value — a term
//     log.level: [error, critical]         # field: list — any of (terms)
//     query: { match_phrase: { message: "timed out" } }   # Elasticsearch DSL
//
// The predicate answers exactly what Elasticsearch answers on the StackLens mappings, for
// the query types in OFFLINE_QUERY_TYPES (offline-query.ts). For anything else — another
// query type, fuzziness, slop, a field pattern, a field Elasticsearch cannot search — it
// answers "unknown" and says why in `unsupported`: live evaluation then asks Elasticsearch;
// an offline replay refuses the rule.
import { logMappings, type LogMappings } from './field-mappings.js';
import { compileOfflineQuery, OfflineRefusal, type DocPredicate } from './offline-query.js';

export { OFFLINE_QUERY_TYPES } from './offline-query.js';

export type Scalar = string | number | boolean;
export type FilterSpec = Record<string, unknown>;

/** true/false, or undefined when the predicate cannot decide (a query it cannot evaluate offline). */
export type Predicate = (doc: Record<string, unknown>) => boolean | undefined;

export interface CompiledFilter {
  clauses: Record<string, unknown>[];
  test: Predicate;
  /** Why the predicate cannot decide some documents ("query.bool.must[0]: query type "fuzzy" …"), if so. */
  unsupported?: string;
}

export function compileFilter(spec: FilterSpec | undefined, mappings?: LogMappings): CompiledFilter {
  const clauses: Record<string, unknown>[] = [];
  const predicates: DocPredicate[] = [];
  let unsupported: string | undefined;
  for (const [key, value] of Object.entries(spec ?? {})) {
    const clause = key === 'query' ? (value as Record<string, unknown>) : Array.isArray(value) ? { terms: { [key]: value } } : { term: { [key]: value } };
    clauses.push(clause);
    try {
      predicates.push(compileOfflineQuery(clause, mappings ?? readMappings(key), key === 'query' ? 'query' : key));
    } catch (err) {
      if (!(err instanceof OfflineRefusal)) throw err;
      unsupported ??= err.message;
    }
  }
  // The clauses are ANDed: one that says no is a no even when another cannot decide.
  const test: Predicate = (doc) => {
    for (const p of predicates) if (!p(doc)) return false;
    return unsupported ? undefined : true;
  };
  return { clauses, test, unsupported };
}

/** The templates' mappings; without them no field's meaning is known, so nothing is evaluated offline. */
function readMappings(at: string): LogMappings {
  try {
    return logMappings();
  } catch (err) {
    throw new OfflineRefusal(at, `the StackLens index templates cannot be read (${(err as Error).message})`);
  }
}

/** Several filters that must all match, as one. */
export function andFilters(filters: CompiledFilter[]): CompiledFilter {
  if (filters.length === 1) return filters[0];
  const unsupported = filters.find((f) => f.unsupported)?.unsupported;
  const test: Predicate = (doc) => {
    let undecided = false;
    for (const f of filters) {
      const r = f.test(doc);
      if (r === false) return false;
      if (r === undefined) undecided = true;
    }
    return undecided ? undefined : true;
  };
  return { clauses: filters.flatMap((f) => f.clauses), test, unsupported };
}
