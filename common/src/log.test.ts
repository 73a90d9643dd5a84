import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, logFormat } from './log.js';

describe('log format', () => {
  it('JSON unless a person reads it: auto is pretty on a terminal only; the variable decides otherwise', () => {
    expect(logFormat({}, false)).toBe('json');
    expect(logFormat({}, true)).toBe('pretty');
    expect(logFormat({ STACKLENS_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ STACKLENS_LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
    expect(logFormat({ STACKLENS_LOG_FORMAT: 'auto' }, true)).toBe('pretty');
  });

  it('JSON lines name the level ("warn", not 40) and keep URL passwords out', () => {
    const lines: string[] = [];
    const out = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogger('collector', 'info', out as never);
    log.warn({ url: 'http://elastic:hunter2@es:9200' }, 'slow');
    const line = JSON.parse(lines[0]);
    expect(line).toMatchObject({ level: 'warn', component: 'collector', msg: 'slow' });
    expect(lines[0]).not.toContain('hunter2');
  });
});
