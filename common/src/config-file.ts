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

  const problems: string[] = [];
  interpolateNode(doc.contents, [], env, (path, node, message) =>
    problems.push(`${file}:${lineOf(node)}: ${formatKeyPath(path)}: ${message}`),
  );
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));

  const raw = doc.toJS() ?? {};
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const path = issue.path as KeyPath;
    let node = nearestNode(doc, path);
    let message = issue.message;
    if (issue.code === 'invalid_type' && valueAt(raw, path) === undefined) {
      message = `is required (${issue.expected})`;
    } else if (issue.code === 'unrecognized_keys') {
      message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      node = keyNode(doc, path, issue.keys[0]) ?? node;
    }
    problems.push(`${file}:${lineOf(node)}: ${formatKeyPath(path)}: ${message}`);
  }
  throw new ConfigError(problems.join('\n'));
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
      report(path, node, `environment variable ${name} is not set`);
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
