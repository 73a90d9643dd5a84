// The text a dead letter keeps of what it stands for: at most a fixed number of bytes, cut on
// a character boundary, and whether it was cut. Built without ever materialising more than
// that — a 4 MiB event or a document nested to the limit costs a 32 KiB copy at most.

export interface CappedText {
  text: string;
  /** True when `text` is only the beginning. */
  truncated: boolean;
  /** Size of the whole in bytes, when known. */
  bytes?: number;
}

/** The first `max` bytes of UTF-8 `bytes` as text, never splitting a character. */
export function capBytes(bytes: Uint8Array, max: number): CappedText {
  if (bytes.length <= max) return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'), truncated: false, bytes: bytes.length };
  let cut = max;
  // Back up over continuation bytes (10xxxxxx) so the cut falls before a character's first byte.
  while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut--;
  return { text: Buffer.from(bytes.buffer, bytes.byteOffset, cut).toString('utf8'), truncated: true, bytes: bytes.length };
}

/** The first `max` bytes of `text` (UTF-8), never splitting a character. */
export function capString(text: string, max: number): CappedText {
  // A character is at most 3 UTF-8 bytes (a surrogate pair: 4 bytes for 2 UTF-16 units).
  if (text.length * 3 <= max) return { text, truncated: false, bytes: Buffer.byteLength(text) };
  const head = capBytes(Buffer.from(text.length > max ? text.slice(0, max) : text, 'utf8'), max);
  const bytes = Buffer.byteLength(text);
  return { text: head.text, truncated: bytes > max, bytes };
}

/** Text kept whole. */
export const wholeText = (text: string): CappedText => ({ text, truncated: false, bytes: Buffer.byteLength(text) });

/** An object or array being written: its keys (objects only) and the next entry. */
type Frame = { value: Record<string, unknown> | unknown[]; keys?: string[]; next: number; written: number };

/**
 * JSON text of a parsed value, stopping once `max` bytes are written. Iterative (an explicit
 * stack), so no nesting can exhaust the call stack; numbers JSON cannot carry are written
 * as null, like JSON.stringify.
 */
export function capJson(value: unknown, max: number): CappedText {
  const parts: string[] = [];
  let size = 0;
  let full = false;
  const write = (s: string) => {
    parts.push(s);
    size += Buffer.byteLength(s);
    if (size >= max) full = true;
  };
  const scalar = (v: unknown): string => {
    if (typeof v === 'string') return JSON.stringify(v.length > max ? v.slice(0, max) : v);
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
    if (typeof v === 'boolean') return String(v);
    return 'null';
  };
  const stack: Frame[] = [];
  const emit = (v: unknown) => {
    if (v !== null && typeof v === 'object') {
      const array = Array.isArray(v);
      write(array ? '[' : '{');
      stack.push({ value: v as Frame['value'], keys: array ? undefined : Object.keys(v), next: 0, written: 0 });
    } else write(scalar(v));
  };
  emit(value);
  while (stack.length > 0 && !full) {
    const frame = stack[stack.length - 1];
    const length = frame.keys ? frame.keys.length : (frame.value as unknown[]).length;
    if (frame.next === length) {
      write(frame.keys ? '}' : ']');
      stack.pop();
      continue;
    }
    const index = frame.next++;
    if (frame.keys) {
      const key = frame.keys[index];
      const v = (frame.value as Record<string, unknown>)[key];
      if (v === undefined || typeof v === 'function') continue; // left out, as JSON.stringify does
      if (frame.written++ > 0) write(',');
      write(`${JSON.stringify(key.length > max ? key.slice(0, max) : key)}:`);
      emit(v);
    } else {
      if (frame.written++ > 0) write(',');
      emit((frame.value as unknown[])[index]);
    }
  }
  const text = parts.join('');
  if (!full || (stack.length === 0 && size <= max)) return { text, truncated: false, bytes: size };
  return { ...capString(text, max), truncated: true, bytes: undefined };
}
