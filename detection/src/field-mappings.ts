// What Elasticsearch knows about a field of a StackLens log data stream — text, keyword,
// number, date, boolean — read from the shipped index templates (elasticsearch/templates),
// so the offline rule evaluator and the collector's Elasticsearch see the same mapping.
// The answer to `term: { message: "Failure" }` depends on it: a text field holds lowercased
// words, a keyword field the exact string.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** How a field's values are indexed, as far as queries can tell. */
export type FieldKind = 'text' | 'keyword' | 'long' | 'double' | 'float' | 'date' | 'boolean';

export interface FieldMapping {
  kind: FieldKind;
  /** The Elasticsearch type, for messages (integer, long, match_only_text …). */
  type: string;
  /** Keyword strings longer than this are not indexed. */
  ignoreAbove?: number;
}

/** A path the evaluator must not guess about, and why. */
export interface UnsearchableField {
  unsearchable: string;
}

export type FieldLookup = FieldMapping | UnsearchableField | 'object' | undefined;

export interface LogMappings {
  /** The mapping of a field path; 'object' for an object; undefined for a field mapped dynamically. */
  field(path: string): FieldLookup;
  /** How a string in an unmapped field is mapped (the templates' dynamic template). */
  dynamicString: FieldMapping;
}

const KINDS: Record<string, FieldKind> = {
  text: 'text',
  match_only_text: 'text',
  keyword: 'keyword',
  long: 'long',
  integer: 'long',
  short: 'long',
  byte: 'long',
  double: 'double',
  float: 'float',
  date: 'date',
  boolean: 'boolean',
};

/** The templates next to this package in the repository (also in the Docker image). */
const TEMPLATES_DIR = fileURLToPath(new URL('../../elasticsearch/templates/', import.meta.url));

let cached: LogMappings | undefined;

/** The mappings every `logs-*` data stream gets from the StackLens templates (read once). */
export function logMappings(): LogMappings {
  cached ??= mappingsFromTemplates(TEMPLATES_DIR);
  return cached;
}

export function mappingsFromTemplates(dir: string): LogMappings {
  const read = (kind: string, name: string) => JSON.parse(readFileSync(`${dir}/${kind}/${name}.json`, 'utf8'));
  const components = new Set<string>();
  for (const file of readdirSync(`${dir}/index`).filter((f) => f.endsWith('.json'))) {
    const t = read('index', file.slice(0, -'.json'.length));
    if ((t.index_patterns as string[]).every((p) => p.startsWith('logs-'))) for (const c of t.composed_of ?? []) components.add(c);
  }
  const fields = new Map<string, Source>();
  let dynamicString: FieldMapping | undefined;
  for (const name of components) {
    const mappings = read('component', name).template?.mappings ?? {};
    addProperties(fields, name, '', mappings.properties ?? {});
    for (const entry of mappings.dynamic_templates ?? []) {
      const t = Object.values(entry)[0] as { match_mapping_type?: string; mapping?: Record<string, unknown> };
      if (t.match_mapping_type === 'string' && t.mapping) dynamicString = leafMapping(t.mapping) as FieldMapping;
    }
  }
  if (!dynamicString || !('kind' in dynamicString)) throw new Error(`${dir}: no dynamic template maps strings to a searchable type; the offline rule evaluator cannot model unmapped fields`);
  const found = dynamicString;
  return { field: (path) => fields.get(path)?.lookup, dynamicString: found };
}

/** A field's mapping and the component template it comes from. */
interface Source {
  lookup: FieldLookup;
  component: string;
}

function addProperties(fields: Map<string, Source>, component: string, prefix: string, properties: Record<string, any>): void {
  for (const [name, def] of Object.entries(properties)) {
    const path = prefix + name;
    if (def.properties || def.type === 'object' || def.type === undefined) {
      merge(fields, path, { lookup: 'object', component });
      addProperties(fields, component, `${path}.`, def.properties ?? {});
    } else {
      merge(fields, path, { lookup: leafMapping(def), component });
    }
  }
}

function leafMapping(def: Record<string, unknown>): FieldMapping | UnsearchableField {
  const type = String(def.type);
  const kind = KINDS[type];
  if (!kind) return { unsearchable: `it is mapped as ${type}, which the offline evaluator does not model` };
  if (def.index === false && def.doc_values === false) return { unsearchable: 'it is not indexed (index: false), so Elasticsearch cannot search it' };
  if (def.index === false) return { unsearchable: 'it is not indexed (index: false); Elasticsearch searches its doc values, which the offline evaluator does not model' };
  return { kind, type, ignoreAbove: typeof def.ignore_above === 'number' ? def.ignore_above : undefined };
}

/** Two templates that map one path differently (e.g. the dead-letter stream's event.original): refuse to guess. */
function merge(fields: Map<string, Source>, path: string, next: Source): void {
  const current = fields.get(path);
  if (current === undefined || JSON.stringify(current.lookup) === JSON.stringify(next.lookup)) {
    fields.set(path, current ?? next);
    return;
  }
  const describe = (s: Source) => `${s.lookup === 'object' ? 'an object' : s.lookup && 'kind' in s.lookup ? s.lookup.type : 'not searchable'} in ${s.component}`;
  fields.set(path, { lookup: { unsearchable: `the StackLens templates map it differently (${describe(current)}, ${describe(next)})` }, component: current.component });
}
