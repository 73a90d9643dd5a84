import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
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

  it('a process whose log output is gone (a reader that quit: journald restarted, `| head`) still exits', async () => {
    // pino's default destination flushes at exit with a loop that retries a broken pipe for ever
    // (sonic-boom 4): the agent, asked to stop, hung until SIGKILL. Logs go to a synchronous
    // destination, whose broken pipe pino turns into a no-op.
    const logModule = fileURLToPath(new URL('../dist/log.js', import.meta.url));
    const program = `const { createLogger } = await import(${JSON.stringify(logModule)});
      const log = createLogger('test', 'info');
      setTimeout(() => { for (let n = 0; n < 100; n++) log.info({ n }, 'a line'); process.exit(0); }, 300);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', program], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STACKLENS_LOG_FORMAT: 'json' } });
    // The reader quits at once: every write meets a closed pipe, the last ones at exit.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exit = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('hung');
      }, 10_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code ?? -1);
      });
    });
    expect({ exit, stderr }).toEqual({ exit: 0, stderr: '' });
  }, 15_000);
});
