import { describe, expect, it } from 'vitest';
import { parseTimestamp } from './timestamp.js';

describe('parseTimestamp', () => {
  it.each([
    ['2024-11-16T10:30:00Z', '2024-11-16T10:30:00Z'],
    ['2017-06-09T20:10:41,190+0000', '2017-06-09T20:10:41.190Z'],
    ['2017-06-09T20:10:41.190+02:00', '2017-06-09T18:10:41.190Z'],
    ['2017-06-09 20:10:41+01', '2017-06-09T19:10:41.000Z'],
    ['2017-06-09T20:10:40.123456789Z', '2017-06-09T20:10:40.123456789Z'],
    ['2017-06-09T20:10:40.123456-05:00', '2017-06-10T01:10:40.123456Z'],
    ['Fri, 09 Jun 2017 20:10:41 GMT', '2017-06-09T20:10:41.000Z'],
    [1497039058, '2017-06-09T20:10:58.000Z'],
    [1497039058.5, '2017-06-09T20:10:58.500Z'],
    [1497039058810, '2017-06-09T20:10:58.810Z'],
    [1497039058810123, '2017-06-09T20:10:58.810Z'],
    [1497039058810123456, '2017-06-09T20:10:58.810Z'],
    ['1497039058810', '2017-06-09T20:10:58.810Z'],
  ])('%s → %s', (input, expected) => {
    expect(parseTimestamp(input)).toBe(expected);
  });

  it('reads zone-less times in the input time zone (UTC by default), across DST', () => {
    expect(parseTimestamp('2024-11-16 10:30:00')).toBe('2024-11-16T10:30:00.000Z');
    expect(parseTimestamp('2024-11-16T10:30:00.250', 'Europe/Berlin')).toBe('2024-11-16T09:30:00.250Z');
    expect(parseTimestamp('2024-07-16T10:30:00', 'Europe/Berlin')).toBe('2024-07-16T08:30:00.000Z');
    expect(parseTimestamp('2024-07-16T10:30:00', 'America/New_York')).toBe('2024-07-16T14:30:00.000Z');
  });

  it('refuses what is not a time, naming it', () => {
    for (const bad of ['yesterday', '2024-13-01T00:00:00Z', '2023-02-30T00:00:00Z', '', 'NaN', Number.NaN, 1e30, {}, null, true]) {
      expect(() => parseTimestamp(bad), String(bad)).toThrow(/unparsable timestamp/);
    }
  });
});
