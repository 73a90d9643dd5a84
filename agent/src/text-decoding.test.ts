import { describe, expect, it } from 'vitest';
import { DECODINGS, looksBinary } from './text-decoding.js';
import { gzipSync } from 'node:zlib';

describe('text decodings', () => {
  it('flags bytes that are not UTF-8, keeps a real U+FFFD unflagged', () => {
    const bad = Buffer.from('Adi\xf3s\r', 'latin1');
    expect(DECODINGS['utf-8'].decode(bad, 0, bad.length)).toEqual({ text: 'Adi\uFFFDs', invalid: true });
    const real = Buffer.from('a \uFFFD b');
    expect(DECODINGS['utf-8'].decode(real, 0, real.length)).toEqual({ text: 'a \uFFFD b', invalid: false });
  });

  it('decodes latin1 and windows-1252 (where they differ: 0x80 is € only in 1252)', () => {
    const b = Buffer.from([0x41, 0x64, 0x69, 0xf3, 0x73, 0x20, 0x80]);
    expect(DECODINGS.latin1.decode(b, 0, b.length).text).toBe('Adiós \u0080');
    expect(DECODINGS['windows-1252'].decode(b, 0, b.length).text).toBe('Adiós €');
  });

  it('UTF-16: line breaks only at aligned LF code units; BOM and CR handled', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('\u0a0a x\r\nnext\n', 'utf16le')]);
    const d = DECODINGS['utf-16le'];
    expect(d.bomLength(le)).toBe(2);
    // U+0A0A is the bytes 0a 0a: not a line break.
    const nl = d.newline(le, 2, le.length, 0);
    expect(d.decode(le, 2, nl).text).toBe('\u0a0a x');
    const be = Buffer.from([0, 0x41, 0x0a, 0x00, 0x00, 0x0a]);
    expect(DECODINGS['utf-16be'].newline(be, 0, be.length, 0)).toBe(4);
  });

  it('tells binary from text', () => {
    expect(looksBinary(gzipSync('hello\n'), DECODINGS['utf-8'])).toBe(true);
    expect(looksBinary(Buffer.from([1, 2, 3, 0, 5]), DECODINGS['utf-8'])).toBe(true);
    expect(looksBinary(Buffer.from('plain text\twith \x1b[31mcolour\x1b[0m\n'), DECODINGS['utf-8'])).toBe(false);
    expect(looksBinary(Buffer.from('text\n', 'utf16le'), DECODINGS['utf-16le'])).toBe(false);
  });
});
