import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShippedMarks } from './shipped-marks.js';

const pos = (key: string, generation = 0) => ({ key, generation });

describe('ShippedMarks', () => {
  it('after a restart, lines up to what was handed on are redeliveries; later lines, other generations and other files are not', () => {
    const dir = mkdtempSync(join(tmpdir(), 'marks-'));
    const started = Date.now();
    const before = new ShippedMarks(dir);
    expect(before.redelivers(pos('a'), 10)).toBeUndefined(); // nothing known at first start
    before.handedOn([{ pos: pos('a'), end: 500 }, { pos: pos('b', 2), end: 70 }]);
    before.handedOn([{ pos: pos('a'), end: 300 }]); // a batch sent out of order never lowers a mark

    const after = new ShippedMarks(dir); // the agent was killed and started again
    const since = after.redelivers(pos('a'), 120)!;
    expect(since).toBeGreaterThanOrEqual(started);
    expect(since).toBeLessThanOrEqual(Date.now());
    expect(after.redelivers(pos('a'), 500)).toBe(since); // raised by a later batch: still the first hand-on's time
    expect(after.redelivers(pos('a'), 501)).toBeUndefined();
    expect(after.redelivers(pos('a', 1), 120)).toBeUndefined(); // truncated since: new lines
    expect(after.redelivers(pos('b', 2), 70)).toBeGreaterThan(0);
    expect(after.redelivers(pos('c'), 1)).toBeUndefined();
  });

  it('drops marks the registry has acknowledged on disk, keeps the others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'marks-'));
    const marks = new ShippedMarks(dir);
    marks.handedOn([{ pos: pos('a'), end: 500 }, { pos: pos('b'), end: 900 }]);
    marks.prune((key) => (key === 'a' ? { offset: 500, generation: 0 } : { offset: 400, generation: 0 }));
    expect(Object.keys(JSON.parse(readFileSync(join(dir, 'shipped.json'), 'utf8')))).toEqual(['b']);
    const after = new ShippedMarks(dir);
    expect(after.redelivers(pos('a'), 100)).toBeUndefined();
    expect(after.redelivers(pos('b'), 800)).toBeGreaterThan(0);
  });

  it('an unreadable marks file means nothing is known, not a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'marks-'));
    writeFileSync(join(dir, 'shipped.json'), '{"a": {"g": 0, "o": "x"}, oops');
    expect(new ShippedMarks(dir).redelivers(pos('a'), 1)).toBeUndefined();
  });
});
