// Reading a dotted field ("pos.store_id") from an event document, the way Elasticsearch
// sees it: nested objects, or a literal dotted key.

export function fieldValue(doc: unknown, field: string): unknown {
  if (doc === null || typeof doc !== 'object') return undefined;
  const obj = doc as Record<string, unknown>;
  // Own keys only: "constructor" or "__proto__" of a plain document are not fields.
  if (Object.hasOwn(obj, field)) return obj[field];
  const dot = field.indexOf('.');
  if (dot < 0) return undefined;
  // Try every split point: {"pos": {"store_id": …}} and {"pos.store": {"id": …}} both work.
  for (let i = dot; i >= 0; i = field.indexOf('.', i + 1)) {
    const head = field.slice(0, i);
    if (Object.hasOwn(obj, head)) {
      const found = fieldValue(obj[head], field.slice(i + 1));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** The field's values as a flat list (a missing field has none; arrays are flattened). */
export function fieldValues(doc: unknown, field: string): unknown[] {
  const v = fieldValue(doc, field);
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v.flat(Infinity).filter((x) => x !== null && x !== undefined) : [v];
}

/** Equality as a keyword/number term query sees it: 999 matches "999". */
export function termEquals(actual: unknown, expected: unknown): boolean {
  if (actual === expected) return true;
  if (typeof actual === 'object' || typeof expected === 'object') return false;
  return String(actual) === String(expected);
}
