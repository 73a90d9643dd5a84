// Loads a YAML config file: ${ENV} interpolation, then schema validation. Every error names
// the file, the line and the key, e.g. `agent.yaml:7: inputs[0].format: must be one of ...`.
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, isPair, type Document, type Node } from 'yaml';
import type { ZodType } from 'zod';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;
type KeyPath = (string | number)[];

export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(top level)';
}

/** Read, interpolate and validate a YAML config file; throws ConfigError listing every problem. */
export function loadYamlConfig<T>(file: string, schema: ZodType<T>, env: Env = process.env): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read config file: ${(err as Error).message}`);
  }
  return parseYamlConfig(text, file, schema, env);
}

export function parseYamlConfig<T>(text: string, file: string, schema: ZodType<T>, env: Env = process.env): T {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new ConfigError(`${file}:${e.linePos?.[0]?.line ?? '?'}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const lineOf = (node: Node | null | undefined) => (node?.range ? lines.linePos(node.range[0]).line : 1);

  // Every problem in one pass, the file's own mistakes first: schema errors, then the
  // environment variables it names that are not set (a missing variable reads as "" for
  // the schema, and the schema's complaint about that same key is not repeated).
  const envProblems: { path: KeyPath; text: string }[] = [];
  interpolateNode(doc.contents, [], env, (path, node, message) => envProblems.push({ path, text: `${file}:${lineOf(node)}: ${formatKeyPath(path)}: ${message}` }));
  const fromEnv = (path: KeyPath) => envProblems.some((e) => e.path.length <= path.length && e.path.every((p, i) => p === path[i]));

  const problems: { line: number; text: string }[] = [];
  const raw = doc.toJS() ?? {};
  const result = schema.safeParse(raw);
  // A duration or a size written as a bare number: the schema would take it as ms / bytes.
  for (const u of bareNumbers(schema, raw, [])) {
    const line = lineOf(nearestNode(doc, u.path));
    const example = u.unit === 'duration' ? `${u.value}ms (or a duration such as 5s, 1m)` : `${u.value}B (or a size such as 64KiB, 1MiB)`;
    problems.push({ line, text: `${file}:${line}: ${formatKeyPath(u.path)}: ${u.value} has no unit; write ${example}` });
  }
  if (result.success && envProblems.length === 0 && problems.length === 0) return result.data;
  for (const issue of result.success ? [] : result.error.issues) {
    const path = issue.path as KeyPath;
    if (fromEnv(path)) continue;
    let node = nearestNode(doc, path);
    let message = issue.message;
    if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && valueAt(raw, path) === undefined) {
      // A missing key, however its schema is built (a union says only "Invalid input").
      message = issue.code === 'invalid_type' ? `is required (${issue.expected})` : 'is required';
    } else if (issue.code === 'unrecognized_keys') {
      // Each unknown key on its own line, where it is written.
      const known = keysAt(schema, path);
      for (const k of issue.keys) {
        const near = closest(k, known);
        const at = lineOf(keyNode(doc, path, k) ?? node);
        problems.push({ line: at, text: `${file}:${at}: ${formatKeyPath(path)}: unknown key "${k}"${near ? ` (did you mean "${near}"?)` : ''}` });
      }
      continue;
    }
    problems.push({ line: lineOf(node), text: `${file}:${lineOf(node)}: ${formatKeyPath(path)}: ${message}` });
  }
  // In the file's order, then the environment's.
  problems.sort((a, b) => a.line - b.line);
  throw new ConfigError([...problems.map((p) => p.text), ...envProblems.map((e) => e.text)].join('\n'));
}

/** The unit a schema (or one of its wrappers) requires, from its meta (config-schema.ts). */
function unitOf(schema: any): string | undefined {
  let s = schema;
  for (let i = 0; i < 20 && s; i++) {
    const unit = typeof s.meta === 'function' ? s.meta()?.unit : undefined;
    if (unit) return unit;
    const def = s._zod?.def ?? s.def;
    if (!def) return undefined;
    if (['optional', 'default', 'nullable', 'prefault', 'catch', 'readonly', 'nonoptional'].includes(def.type)) s = def.innerType;
    else if (def.type === 'pipe') s = def.in;
    else return undefined;
  }
  return undefined;
}

/** Values written without a unit where the schema wants one: a number, or a string of digits only. */
function bareNumbers(schema: unknown, value: unknown, path: KeyPath): { path: KeyPath; unit: string; value: string }[] {
  const unit = unitOf(schema);
  if (unit) {
    const bare = (typeof value === 'number' && value !== 0) || (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) && Number(value) !== 0);
    return bare ? [{ path, unit, value: String(value).trim() }] : [];
  }
  if (value === null || typeof value !== 'object') return [];
  const s = unwrap(schema);
  const def = s?._zod?.def ?? s?.def;
  if (!def) return [];
  const out: { path: KeyPath; unit: string; value: string }[] = [];
  if (def.type === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) if (def.shape && Object.hasOwn(def.shape, k)) out.push(...bareNumbers(def.shape[k], v, [...path, k]));
  } else if (def.type === 'array' && Array.isArray(value)) {
    value.forEach((v, i) => out.push(...bareNumbers(def.element, v, [...path, i])));
  } else if (def.type === 'record' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) out.push(...bareNumbers(def.valueType, v, [...path, k]));
  } else if (def.type === 'union') {
    // Each option that could be this value: problems found under any of them, once per path.
    const seen = new Set<string>();
    for (const option of def.options ?? []) {
      for (const p of bareNumbers(option, value, path)) {
        const key = JSON.stringify(p.path);
        if (!seen.has(key)) {
          seen.add(key);
          out.push(p);
        }
      }
    }
  }
  return out;
}

/** The keys a (zod 4) object schema allows at `path` — through optionals, defaults, pipes, arrays and records. */
export function keysAt(schema: unknown, path: KeyPath): string[] {
  let s = unwrap(schema);
  for (const part of path) {
    const def = s?._zod?.def ?? s?.def;
    if (!def) return [];
    if (def.type === 'object') s = unwrap(def.shape?.[part]);
    else if (def.type === 'array') s = unwrap(def.element);
    else if (def.type === 'record') s = unwrap(def.valueType);
    else return [];
  }
  const def = s?._zod?.def ?? s?.def;
  return def?.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

function unwrap(schema: any): any {
  let s = schema;
  for (let i = 0; i < 20 && s; i++) {
    const def = s._zod?.def ?? s.def;
    if (!def) return s;
    if (['optional', 'default', 'nullable', 'prefault', 'catch', 'readonly', 'nonoptional'].includes(def.type)) s = def.innerType;
    else if (def.type === 'pipe') s = def.in;
    else return s;
  }
  return s;
}

/** The known key nearest to a misspelled one (edit distance ≤ 2, or a different case / separator), if any. */
export function closest(key: string, known: string[]): string | undefined {
  const norm = (k: string) => k.toLowerCase().replace(/[-_ ]/g, '');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = norm(k) === norm(key) ? 0 : editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.min(2, Math.max(1, Math.floor(key.length / 3))) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replace ${NAME} and ${NAME:-default} in every string scalar, reporting unset variables. */
function interpolateNode(
  node: unknown,
  path: KeyPath,
  env: Env,
  report: (path: KeyPath, node: Node, message: string) => void,
): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      interpolateNode(pair.value, [...path, key], env, report);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => interpolateNode(item, [...path, i], env, report));
  } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
    node.value = node.value.replace(ENV_REF, (_match, name: string, fallback: string | undefined) => {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback;
      report(path, node, value === '' ? `environment variable ${name} is empty` : `environment variable ${name} is not set`);
      return '';
    });
  }
}

function nearestNode(doc: Document, path: KeyPath): Node | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
    if (node && typeof node === 'object' && 'range' in node) return node;
  }
  return undefined;
}

/** The node of a key itself inside the map at `path` (to point at an unknown key's own line). */
function keyNode(doc: Document, path: KeyPath, key: string): Node | undefined {
  const map = doc.getIn(path, true);
  if (!isMap(map)) return undefined;
  const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
  return pair && isScalar(pair.key) ? pair.key : undefined;
}

function valueAt(root: unknown, path: KeyPath): unknown {
  let cur: unknown = root;
  for (const part of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[part];
  }
  return cur;
}
