// Bytes → text for one input encoding: where lines end and how a line's bytes decode.
// UTF-8 is the default; bytes that are not valid UTF-8 are replaced by U+FFFD (what every
// log shipper does) but the line is flagged `invalid_utf8` and counted, never silently
// changed. 8-bit encodings decode every byte; UTF-16 lines end at an aligned LF code unit.
import { isUtf8 } from 'node:buffer';
import type { Encoding } from './config.js';

export interface DecodedLine {
  text: string;
  /** Some bytes were not valid in the encoding (replaced by U+FFFD). */
  invalid: boolean;
}

export interface TextDecoding {
  /** Index of the first byte of the next line break at or after `from` (before `end`), or -1. */
  newline(buf: Buffer, from: number, end: number, fileOffset: number): number;
  /** Bytes the line break takes. */
  readonly newlineBytes: number;
  /** Decode bytes [start, end) of a line (its line break excluded; a trailing CR is dropped). */
  decode(buf: Buffer, start: number, end: number): DecodedLine;
  /** Byte-order mark to skip at the start of a file, if present. */
  bomLength(head: Buffer): number;
  /** Whether NUL bytes in a text file are normal (UTF-16): binary detection must not count them. */
  readonly wideChars: boolean;
}

const REPLACEMENT = '\uFFFD';

const utf8: TextDecoding = {
  newline: (buf, from, end) => {
    const i = buf.indexOf(10, from);
    return i >= 0 && i < end ? i : -1;
  },
  newlineBytes: 1,
  decode(buf, start, end) {
    if (end > start && buf[end - 1] === 13) end--;
    const text = buf.toString('utf8', start, end);
    // The cheap test first: only a line holding U+FFFD can hold invalid bytes.
    return { text, invalid: text.includes(REPLACEMENT) && !isUtf8(buf.subarray(start, end)) };
  },
  bomLength: (head) => (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0),
  wideChars: false,
};

function eightBit(decodeBytes: (bytes: Buffer) => string): TextDecoding {
  return {
    newline: utf8.newline,
    newlineBytes: 1,
    decode(buf, start, end) {
      if (end > start && buf[end - 1] === 13) end--;
      return { text: decodeBytes(buf.subarray(start, end)), invalid: false };
    },
    bomLength: () => 0,
    wideChars: false,
  };
}

function utf16(littleEndian: boolean): TextDecoding {
  const decoder = new TextDecoder(littleEndian ? 'utf-16le' : 'utf-16be', { fatal: false, ignoreBOM: true });
  const lf = littleEndian ? Buffer.from([10, 0]) : Buffer.from([0, 10]);
  const cr = littleEndian ? [13, 0] : [0, 13];
  return {
    newline(buf, from, end, fileOffset) {
      // Code units start at even file offsets: skip LF byte pairs that straddle two units.
      for (let i = buf.indexOf(lf, from); i >= 0 && i + 1 < end; i = buf.indexOf(lf, i + 1)) {
        if ((fileOffset + i) % 2 === 0) return i;
      }
      return -1;
    },
    newlineBytes: 2,
    decode(buf, start, end) {
      if (end - start >= 2 && buf[end - 2] === cr[0] && buf[end - 1] === cr[1]) end -= 2;
      const text = decoder.decode(buf.subarray(start, end));
      return { text, invalid: text.includes(REPLACEMENT) };
    },
    bomLength: (head) => (littleEndian ? head[0] === 0xff && head[1] === 0xfe : head[0] === 0xfe && head[1] === 0xff) ? 2 : 0,
    wideChars: true,
  };
}

// Windows-1252 is Latin-1 except 0x80–0x9F. Written out because Node's TextDecoder
// decodes 'windows-1252' as Latin-1 in that range.
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';
function decodeWindows1252(bytes: Buffer): string {
  const latin1 = bytes.toString('latin1');
  let needs = false;
  for (const b of bytes) if (b >= 0x80 && b <= 0x9f) needs = true;
  if (!needs) return latin1;
  let out = '';
  for (const ch of latin1) {
    const c = ch.charCodeAt(0);
    out += c >= 0x80 && c <= 0x9f ? CP1252_HIGH[c - 0x80] : ch;
  }
  return out;
}

export const DECODINGS: Record<Encoding, TextDecoding> = {
  'utf-8': utf8,
  latin1: eightBit((b) => b.toString('latin1')),
  'windows-1252': eightBit(decodeWindows1252),
  'utf-16le': utf16(true),
  'utf-16be': utf16(false),
};

/**
 * Is this the head of a binary file? Many NUL or other control characters in the first
 * block; gzip/zip/bzip2/xz magic numbers always. Judged on characters, not bytes, so UTF-16
 * text (whose high bytes are 0x00–0x1F for Greek, Cyrillic, Arabic …) is text. A leading run
 * of NUL bytes is a hole, not content: a writer without O_APPEND whose file was truncated
 * under it (copytruncate) goes on at its old offset, and the file starts with zeros.
 */
export function looksBinary(head: Buffer, decoding: TextDecoding): boolean {
  if (head.length === 0) return false;
  const magic = head.subarray(0, 6).toString('latin1');
  if (magic.startsWith('\x1f\x8b') || magic.startsWith('PK\x03\x04') || /^BZh[1-9]/.test(magic) || magic.startsWith('\xfd7zXZ')) return true;
  let start = 0;
  while (start < head.length && head[start] === 0) start++;
  const text = decoding.wideChars ? decoding.decode(head, start - (start % 2), head.length - ((head.length - start) % 2)).text : head.toString('latin1', start);
  if (text.length === 0) return false;
  let control = 0;
  let nul = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) nul++;
    // TAB, LF, VT, FF, CR and ESC (colour codes) are text.
    else if (c < 32 && c !== 9 && c !== 10 && c !== 11 && c !== 12 && c !== 13 && c !== 27) control++;
  }
  // One garbage line with a NUL in a text log is a bad line (shipped, flagged by its parser),
  // not a binary file: binary formats are full of NULs.
  return (nul >= 4 && nul / text.length > 0.01) || (nul + control) / text.length > 0.1;
}
