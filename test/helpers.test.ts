// The test helpers' own promise: a collector or agent that dies fails the test waiting on it
// at once — with its exit code and last log lines — instead of after the wait's timeout;
// a process stopped on purpose does not.
import { describe, expect, it } from 'vitest';
import { startAgent, startCollector, tempDir, waitFor } from './helpers.js';

const never = async () => false as const;

describe('waitFor and dead processes', () => {
  it('an agent that exits (a bad config) fails the wait at once, with its exit code and last log lines', async () => {
    const agent = startAgent(tempDir(), 'collector:\n  url: http://127.0.0.1:9\n  token: t\ninputs:\n  - paths: ["./*.log"]\n    format: csv\n    dataset: pos\n');
    const started = Date.now();
    const err: Error = await waitFor('something that never happens', never, 60_000).catch((e) => e);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(err.message).toMatch(/^agent\/dist\/cli\.js \(pid \d+\) exited unexpectedly with exit code 2 while waiting for something that never happens; its last log lines:\n/);
    expect(err.message).toContain('inputs[0].format: must be one of pos, chatbot, json, plain');
    await agent.stop();
  });

  it('a process killed from outside fails the wait at once; one stopped through its handle does not', async () => {
    const dir = tempDir();
    const yaml = 'collector:\n  url: http://127.0.0.1:9\n  token: t\ninputs:\n  - paths: ["./*.log"]\n    format: plain\n    dataset: app\n';
    const stopped = startAgent(dir, yaml);
    await new Promise((r) => setTimeout(r, 500));
    await stopped.stop('SIGKILL');
    // The stopped one is not reported: this wait runs to its (short) timeout.
    await expect(waitFor('a short wait', never, 500)).rejects.toThrow(/^timed out after 500 ms waiting for a short wait$/);

    const victim = startAgent(tempDir(), yaml);
    await new Promise((r) => setTimeout(r, 500));
    const waiting = waitFor('the victim to do something', never, 60_000).catch((e: Error) => e);
    const killedAt = Date.now();
    process.kill(victim.proc.child.pid!, 'SIGKILL');
    const err = await waiting;
    expect(Date.now() - killedAt).toBeLessThan(2_000); // woken by the exit, not by the next probe or the timeout
    expect((err as Error).message).toMatch(/^agent\/dist\/cli\.js \(pid \d+\) exited unexpectedly with signal SIGKILL while waiting for the victim to do something/);
  });

  it('a collector that cannot start fails startCollector at once, saying why', async () => {
    const started = Date.now();
    const err: Error = await startCollector('http://127.0.0.1:9', { extra: 'no_such_key: 1\n' }).catch((e) => e);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(err.message).toMatch(/^collector\/dist\/cli\.js \(pid \d+\) exited unexpectedly with exit code 2 while waiting for collector ready on http:\/\/127\.0\.0\.1:\d+; its last log lines:\n/);
    expect(err.message).toContain('unknown key "no_such_key"');
  });
});
