import { describe, expect, it } from 'vitest';
import { ContainerEnvelope, type DecodedRecord } from './container-envelope.js';

function collect(format: 'docker' | 'cri', max = 1 << 20) {
  const out: DecodedRecord[] = [];
  return { out, env: new ContainerEnvelope(format, max, (r) => out.push(r)) };
}

describe('docker json-file', () => {
  it('unwraps log, stream and time; joins partial lines per stream', () => {
    const { out, env } = collect('docker');
    env.push('{"log":"17/06/09 20:10:40 INFO one\\n","stream":"stderr","time":"2017-06-09T20:10:40.1Z"}', 0, 90);
    env.push('{"log":"a long ","stream":"stdout","time":"2017-06-09T20:10:41Z"}', 90, 150);
    env.push('{"log":"interleaved\\n","stream":"stderr","time":"2017-06-09T20:10:41Z"}', 150, 220);
    expect(env.pendingOffset).toBe(90);
    env.push('{"log":"line\\n","stream":"stdout","time":"2017-06-09T20:10:42Z"}', 220, 280);
    expect(out.map((r) => [r.text, r.offset, r.end, r.envelope?.stream])).toEqual([
      ['17/06/09 20:10:40 INFO one', 0, 90, 'stderr'],
      ['interleaved', 150, 220, 'stderr'],
      ['a long line', 90, 280, 'stdout'],
    ]);
    expect(out[2].envelope?.time).toBe('2017-06-09T20:10:41Z');
    expect(env.pendingOffset).toBeUndefined();
  });

  it('keeps a line that is not docker json, with the reason', () => {
    const { out, env } = collect('docker');
    env.push('not json', 0, 9);
    env.push('{"message":"no log key"}', 9, 34);
    expect(out.map((r) => [r.text, r.error?.type])).toEqual([
      ['not json', 'container.format'],
      ['{"message":"no log key"}', 'container.format'],
    ]);
  });

  it('bounds a joined line: past max bytes the event is cut, flagged split, and nothing is dropped', () => {
    const { out, env } = collect('docker', 10);
    for (let i = 0; i < 4; i++) env.push(`{"log":"abcdef","stream":"stdout"}`, i * 40, i * 40 + 40);
    env.push(`{"log":"end\\n","stream":"stdout"}`, 160, 200);
    expect(out.map((r) => r.text).join('')).toBe('abcdef'.repeat(4) + 'end');
    expect(out.every((r) => r.flags?.includes('split'))).toBe(true);
  });
});

describe('cri', () => {
  it('unwraps time, stream and tag; joins P records until F; an empty record is no event', () => {
    const { out, env } = collect('cri');
    env.push('2016-10-06T00:17:09.669794202Z stdout P part one ', 0, 50);
    env.push('2016-10-06T00:17:09.669794202Z stdout F and two', 50, 100);
    env.push('2016-10-06T00:17:10Z stderr F', 100, 130);
    env.push('garbage', 130, 138);
    expect(out.map((r) => [r.text, r.offset, r.end, r.envelope?.stream, r.error?.type])).toEqual([
      ['part one and two', 0, 100, 'stdout', undefined],
      ['garbage', 130, 138, undefined, 'container.format'],
    ]);
  });
});
