import { describe, expect, it } from 'vitest';
import { capBytes, capJson, capString } from './capped-text.js';

describe('capBytes / capString', () => {
  it('keeps short text whole, with its size', () => {
    expect(capBytes(Buffer.from('héllo'), 100)).toEqual({ text: 'héllo', truncated: false, bytes: 6 });
    expect(capString('héllo', 100)).toEqual({ text: 'héllo', truncated: false, bytes: 6 });
  });

  it('cuts at most max bytes, never inside a character, and says it cut', () => {
    // "é" is 2 bytes: 5 bytes of "ééé" end inside the third one.
    expect(capBytes(Buffer.from('ééé'), 5)).toEqual({ text: 'éé', truncated: true, bytes: 6 });
    expect(capString('ééé', 5)).toEqual({ text: 'éé', truncated: true, bytes: 6 });
    const emoji = capString('😀'.repeat(10), 10); // 4 bytes each
    expect(emoji).toEqual({ text: '😀😀', truncated: true, bytes: 40 });
    expect(Buffer.byteLength(capString('x'.repeat(100_000), 32_768).text)).toBe(32_768);
  });
});

describe('capJson', () => {
  it('writes what JSON.stringify writes when it fits', () => {
    const v = { a: [1, 'two', null, true, { b: undefined, c: 'é"\n' }], d: {}, e: [], n: -1.5e-7 };
    expect(capJson(v, 10_000)).toEqual({ text: JSON.stringify(v), truncated: false, bytes: Buffer.byteLength(JSON.stringify(v)) });
    expect(capJson({ x: Infinity, y: [NaN, undefined] }, 100).text).toBe('{"x":null,"y":[null,null]}');
  });

  it('stops at max bytes: a large document costs a copy of its beginning only', () => {
    const big = { message: 'x'.repeat(5_000_000), more: Array.from({ length: 100_000 }, (_, i) => ({ i })) };
    const c = capJson(big, 32_768);
    expect(c.truncated).toBe(true);
    expect(Buffer.byteLength(c.text)).toBeLessThanOrEqual(32_768);
    expect(c.text.startsWith('{"message":"xxx')).toBe(true);
  });

  it('handles nesting no recursion could (JSON.stringify throws RangeError on it)', () => {
    const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    const c = capJson(deep, 1000);
    expect(c).toMatchObject({ truncated: true, text: '['.repeat(1000) });
  });
});
