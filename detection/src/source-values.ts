// The values of a field in a document's _source, the way Elasticsearch indexes them: an
// object path may be nested ({"pos": {"store_id": …}}), dotted ({"pos.store_id": …}) or
// both, and arrays — of values or of objects — add every element to the field.

/** Every scalar at `path` (null, arrays and objects are not values themselves). */
export function sourceValues(doc: unknown, path: string): unknown[] {
  const out: unknown[] = [];
  collect(doc, path, out);
  return out;
}

function collect(node: unknown, path: string, out: unknown[]): void {
  if (Array.isArray(node)) {
    for (const element of node) collect(element, path, out);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  if (Object.hasOwn(obj, path)) pushScalars(obj[path], out);
  for (let dot = path.indexOf('.'); dot >= 0; dot = path.indexOf('.', dot + 1)) {
    const head = path.slice(0, dot);
    if (Object.hasOwn(obj, head)) collect(obj[head], path.slice(dot + 1), out);
  }
}

function pushScalars(value: unknown, out: unknown[]): void {
  if (Array.isArray(value)) for (const v of value) pushScalars(v, out);
  else if (value !== null && value !== undefined && typeof value !== 'object') out.push(value);
}

/** Every scalar under the object at `path`, with its full dotted path (for exists on an object). */
export function leavesUnder(doc: unknown, path: string): [string, unknown][] {
  const out: [string, unknown][] = [];
  walk(doc, '', path, out);
  return out;
}

function walk(node: unknown, at: string, wanted: string, out: [string, unknown][]): void {
  if (Array.isArray(node)) {
    for (const element of node) walk(element, at, wanted, out);
    return;
  }
  if (node === null || node === undefined) return;
  if (typeof node !== 'object') {
    if (at.startsWith(`${wanted}.`)) out.push([at, node]);
    return;
  }
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    const next = at === '' ? key : `${at}.${key}`;
    // Only paths that lead to, or lie under, the wanted object.
    if (next.startsWith(`${wanted}.`) || `${wanted}.`.startsWith(`${next}.`)) walk(value, next, wanted, out);
  }
}
