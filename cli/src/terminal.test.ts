import { describe, expect, it } from 'vitest';
import { jsonLine, printable } from './terminal.js';

describe('printable', () => {
  it('shows what would drive a terminal instead of obeying it', () => {
    const hostile = 'a \x1b]0;PWNED\x07 \x1b[2J\x1b[H b \x1b[8mhidden\x1b[0m \x9b31m \u202eevil\u202c \x08\x7f';
    const out = printable(hostile);
    expect(out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]/);
    expect(out).toBe('a \\x1b]0;PWNED\\x07 \\x1b[2J\\x1b[H b \\x1b[8mhidden\\x1b[0m \\x9b31m \\u202eevil\\u202c \\x08\\x7f');
  });
  it('keeps ordinary text, one line', () => {
    expect(printable('Product #999 has no price — ünïcødé ✓ 😀')).toBe('Product #999 has no price — ünïcødé ✓ 😀');
    expect(printable('line one\r\nline two\nthree\tfour')).toBe('line one ⏎ line two ⏎ three four');
  });
});

describe('jsonLine', () => {
  it('is JSON that reads back the same, with no raw control character', () => {
    const value = { message: 'x \x1b[2J \x9b1m \u202e y', n: 1 };
    const line = jsonLine(value);
    expect(line).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202e]/);
    expect(JSON.parse(line)).toEqual(value);
  });
});
