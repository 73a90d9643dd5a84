import { describe, expect, it } from 'vitest';
import { MultilineJoiner, type JoinedEvent } from './multiline.js';

const cfg = { max_lines: 500, max_bytes: 1 << 20, timeout: 1000 };

function feed(j: MultilineJoiner, lines: string[], now = 0): JoinedEvent[] {
  const out: JoinedEvent[] = [];
  let offset = 0;
  for (const line of lines) {
    const done = j.push(line, offset, offset + line.length + 1, undefined, now);
    if (done) out.push(done);
    offset += line.length + 1;
  }
  return out;
}

describe('MultilineJoiner', () => {
  it('start pattern: a line without a timestamp joins the event before it', () => {
    const j = new MultilineJoiner({ ...cfg, start_pattern: '^\\d{4}-' });
    const out = feed(j, ['2024-01-01 ERROR boom', 'java.lang.Exception: x', '\tat A.b(A.java:1)', '2024-01-01 INFO next']);
    expect(out).toEqual([{ text: '2024-01-01 ERROR boom\njava.lang.Exception: x\n\tat A.b(A.java:1)', offset: 0, end: 63, flags: ['multiline'] }]);
  });

  it('both patterns: joins only continuation lines; a line matching neither stands alone', () => {
    const j = new MultilineJoiner({ ...cfg, start_pattern: '^\\d{4}-', continuation_pattern: '^(\\s|Caused by:)' });
    const out = feed(j, ['2024-01-01 ERROR boom', '\tat A.b(A.java:1)', 'Caused by: y', 'a stray line without a timestamp', '2024-01-01 INFO next']);
    expect(out.map((e) => e.text)).toEqual(['2024-01-01 ERROR boom\n\tat A.b(A.java:1)\nCaused by: y', 'a stray line without a timestamp']);
    expect(out[1].flags).toBeUndefined();
  });

  it('a pause inside a trace: the orphan rest is flagged multiline_split', () => {
    const j = new MultilineJoiner({ ...cfg, start_pattern: '^\\d{4}-' });
    feed(j, ['2024-01-01 ERROR boom', '\tat A.b(A.java:1)'], 0);
    const head = j.flush(5000);
    expect(head?.flags).toEqual(['multiline']);
    j.push('\tat C.d(C.java:2)', 100, 118, undefined, 6000);
    j.push('\tat E.f(E.java:3)', 118, 136, undefined, 6000);
    const rest = j.flush(9000);
    expect(rest).toMatchObject({ text: '\tat C.d(C.java:2)\n\tat E.f(E.java:3)', flags: ['multiline', 'multiline_split'] });
  });
});
