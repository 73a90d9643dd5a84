// The export's CSV writer against an independent reader (csv-parse): any values, any
// characters, read back as written; formula-like cells escaped unless told not to.
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvField, csvRecord, fieldValue, isFieldName } from './search-export.js';

describe('csvRecord', () => {
  it('reads back as written by an RFC 4180 parser, whatever the text (formulas not escaped)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 20 }), (rows) => {
        const width = rows[0].length;
        const table = rows.map((r) => Array.from({ length: width }, (_, i) => r[i] ?? ''));
        const text = table.map((r) => csvRecord(r, false)).join('');
        expect(parse(text, { relax_quotes: false })).toEqual(table);
      }),
      { numRuns: 500 },
    );
  });

  it('escapes what a spreadsheet would run, and nothing else', () => {
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField('+SUM(A1)')).toBe("'+SUM(A1)");
    expect(csvField('@cmd')).toBe("'@cmd");
    expect(csvField('\tx')).toBe("'\tx");
    expect(csvField('=HYPERLINK("a")')).toBe(`"'=HYPERLINK(""a"")"`);
    expect(csvField('-5')).toBe('-5');
    expect(csvField(-5)).toBe('-5');
    expect(csvField('+1.5e3')).toBe('+1.5e3');
    expect(csvField('-x')).toBe("'-x");
    expect(csvField('a=b')).toBe('a=b');
    expect(csvField('=1', false)).toBe('=1');
    expect(csvField(undefined)).toBe('');
    expect(csvField(null)).toBe('');
    expect(csvField({ a: [1, 'b,c'] })).toBe('"{""a"":[1,""b,c""]}"');
    expect(csvField(true)).toBe('true');
  });
});

describe('fieldValue', () => {
  it('reads dotted fields from nested, flattened and mixed documents', () => {
    expect(fieldValue({ log: { level: 'info' } }, 'log.level')).toBe('info');
    expect(fieldValue({ 'log.level': 'warn' }, 'log.level')).toBe('warn');
    expect(fieldValue({ log: { 'file.path': '/a' } }, 'log.file.path')).toBe('/a');
    expect(fieldValue({ 'log.file': { path: '/b' } }, 'log.file.path')).toBe('/b');
    expect(fieldValue({ '@timestamp': 't' }, '@timestamp')).toBe('t');
    expect(fieldValue({ pos: { items: [1, 2] } }, 'pos.items')).toEqual([1, 2]);
    expect(fieldValue({ log: 'flat' }, 'log.level')).toBeUndefined();
    expect(fieldValue({}, 'a.b.c')).toBeUndefined();
    expect(fieldValue({ a: { b: null } }, 'a.b')).toBeNull();
    // Inherited members are not fields.
    expect(fieldValue({}, 'constructor')).toBeUndefined();
    expect(fieldValue({ a: {} }, 'a.toString')).toBeUndefined();
  });

  it('field names: dotted paths, never object machinery', () => {
    for (const ok of ['message', '@timestamp', 'pos.store_id', 'labels.x-y', 'a_b.c1']) expect(isFieldName(ok), ok).toBe(true);
    for (const bad of ['__proto__', 'a.__proto__', 'constructor', 'x.prototype', 'pos.*', 'a b', '', '.a', 'x'.repeat(201)]) expect(isFieldName(bad), bad).toBe(false);
  });
});
