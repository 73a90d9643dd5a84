// One agent per state_dir. Two agents sharing one would each commit file offsets the other
// overwrites and both ship the same lines (Filebeat refuses the same way: "data path already
// locked by another beat"). The lock is a file holding the owner's pid, taken at start and
// removed at stop; one left by an agent that died (its pid gone, or now another program's)
// is taken over.
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const LOCK_FILE = 'agent.lock';

/** Is this pid a running StackLens agent (or any node process, where /proc cannot say)? */
function isAgentProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /stacklens|agent/.test(cmdline);
  } catch {
    return true; // alive, cannot tell: assume it is
  }
}

export class StateLock {
  private constructor(private readonly path: string) {}

  /** Take the state directory's lock; throws, naming the other agent's pid, when one holds it. */
  static acquire(stateDir: string): StateLock {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const path = join(stateDir, LOCK_FILE);
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAgentProcess(holder)) {
        throw new Error(`state_dir ${stateDir} is in use by another agent (pid ${holder}): one agent per state_dir — stop that one, or give this one its own state_dir`);
      }
      writeFileSync(path, `${process.pid}\n`, { mode: 0o600 }); // left by an agent that is gone
    }
    return new StateLock(path);
  }

  /** Give the lock up (at stop), if it is still ours. */
  release(): void {
    try {
      if (Number.parseInt(readFileSync(this.path, 'utf8'), 10) === process.pid) unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}
