import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateLock } from './state-lock.js';

const children: { kill(): void }[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill();
});

describe('StateLock (one agent per state_dir)', () => {
  it('is taken at start and given up at stop', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const lock = StateLock.acquire(dir);
    expect(readFileSync(join(dir, 'agent.lock'), 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    expect(existsSync(join(dir, 'agent.lock'))).toBe(false);
  });

  it('refuses a second agent while the first runs, naming its pid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    // Another running agent (its command line names it).
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', 'stacklens-agent'], { stdio: 'ignore' });
    children.push(other);
    writeFileSync(join(dir, 'agent.lock'), `${other.pid}\n`);
    expect(() => StateLock.acquire(dir)).toThrow(`state_dir ${dir} is in use by another agent (pid ${other.pid})`);
  });

  it('takes over a lock left by an agent that died', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(join(dir, 'agent.lock'), `${gone}\n`);
    StateLock.acquire(dir).release();
    writeFileSync(join(dir, 'agent.lock'), 'not a pid\n');
    expect(() => StateLock.acquire(dir)).not.toThrow();
  });
});
