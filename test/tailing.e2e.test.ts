// Tailing correctness through the real agent CLI: rotation (create and copytruncate),
// truncation, deletion while open, discovery, many files, multiline, huge and broken lines.
import { closeSync, copyFileSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it, inject } from 'vitest';
import { allDocs, count, esClient, freePort, expectMessagesOnce, openFiles, sleep, startAgent, tempDir, uniqueNamespace, waitFor, useSharedCollector, type AgentHandle, acknowledged } from './helpers.js';

const es = esClient(inject('esUrl'));
const shared = useSharedCollector(inject('esUrl'));
const agents = shared.agents;

/** An agent tailing `glob` (relative to dir) as plain lines into logs-app-<ns>. */
function agentFor(dir: string, ns: string, glob: string, inputExtra = '', topExtra = ''): AgentHandle {
  const agent = startAgent(
    dir,
    `id: tail-${ns}\nstate_dir: ./state\ncollector:\n  url: ${shared.collector.url}\n  token: \${TEST_AGENT_TOKEN}\nbatch:\n  flush_interval: 100ms\n${topExtra}inputs:\n  - paths: ["${glob}"]\n    format: plain\n    dataset: app\n    namespace: ${ns}\n${inputExtra}`,
    { TEST_AGENT_TOKEN: shared.collector.token },
  );
  agents.push(agent);
  return agent;
}


/** Writes numbered lines through one file descriptor, like an application's logger. */
class FdLogger {
  private fd: number;
  readonly written: string[] = [];
  constructor(
    private path: string,
    private readonly tag: string,
  ) {
    this.fd = openSync(path, 'a');
  }
  write(n: number): void {
    let chunk = '';
    for (let i = 0; i < n; i++) {
      const line = `${this.tag}-${String(this.written.length).padStart(6, '0')} the quick brown fox jumps over the lazy dog`;
      this.written.push(line);
      chunk += `${line}\n`;
    }
    writeSync(this.fd, chunk);
  }
  /** The application reopens its log file (after logrotate's create). */
  reopen(path = this.path): void {
    closeSync(this.fd);
    this.path = path;
    this.fd = openSync(path, 'a');
  }
  truncate(): void {
    ftruncateSync(this.fd, 0);
  }
  close(): void {
    closeSync(this.fd);
  }
}

function setup(): { dir: string; ns: string; index: string } {
  const dir = tempDir();
  mkdirSync(join(dir, 'logs'));
  const ns = uniqueNamespace();
  return { dir, ns, index: `logs-app-${ns}` };
}

describe('tailing', () => {
  it.each([
    ['still matching the glob', 'logs/app.log*'],
    ['no longer matching the glob', 'logs/*.log'],
  ])('logrotate create: the file is renamed (%s) and a new one created; lines written to both arrive once each', async (_name, glob) => {
    const { dir, ns, index } = setup();
    const app = new FdLogger(join(dir, 'logs', 'app.log'), 'rot');
    agentFor(dir, ns, glob);
    app.write(2000);
    await waitFor('some lines read', async () => (await count(es, index)) > 0, 20_000, 50);
    renameSync(join(dir, 'logs', 'app.log'), join(dir, 'logs', 'app.log.1'));
    app.write(300); // still through the old descriptor: lands in app.log.1
    app.reopen(join(dir, 'logs', 'app.log'));
    app.write(700);
    await waitFor('3,000 documents', async () => (await count(es, index)) >= 3000, 30_000);
    const tailed = glob === 'logs/app.log*' ? ['app.log', 'app.log.1'] : ['app.log'];
    await waitFor('every tailed file acknowledged to its end', async () => acknowledged(dir, tailed.map((f) => join(dir, 'logs', f))), 20_000);
    await expectMessagesOnce(es, index, app.written);
    app.close();
  });

  it('logrotate copytruncate with the copy matching the glob: nothing lost, nothing doubled', async () => {
    const { dir, ns, index } = setup();
    const app = new FdLogger(join(dir, 'logs', 'app.log'), 'ct');
    agentFor(dir, ns, 'logs/app.log*');
    app.write(5000);
    await waitFor('some lines read', async () => (await count(es, index)) > 0, 20_000, 50);
    copyFileSync(join(dir, 'logs', 'app.log'), join(dir, 'logs', 'app.log.1'));
    app.truncate();
    app.write(1000);
    await waitFor('6,000 documents', async () => (await count(es, index)) >= 6000, 30_000);
    // The copy matches the glob too: it must have been found and dealt with (not shipped again).
    await waitFor('both files acknowledged to their end', async () => acknowledged(dir, [join(dir, 'logs', 'app.log'), join(dir, 'logs', 'app.log.1')]), 20_000);
    await expectMessagesOnce(es, index, app.written);
    app.close();
  });

  it('copytruncate with the copy outside the glob, and plain truncation: the file is read again from the start, nothing doubled', async () => {
    const { dir, ns, index } = setup();
    const app = new FdLogger(join(dir, 'logs', 'app.log'), 'tr');
    agentFor(dir, ns, 'logs/*.log');
    app.write(500);
    await waitFor('500 documents', async () => (await count(es, index)) >= 500, 20_000);
    copyFileSync(join(dir, 'logs', 'app.log'), join(dir, 'logs', 'app.log.1'));
    app.truncate();
    app.write(100); // shorter than before: the agent sees the file shrink
    await waitFor('600 documents', async () => (await count(es, index)) >= 600, 20_000);
    app.truncate();
    app.write(2000); // longer than before: the agent sees a new first line
    await waitFor('2,600 documents', async () => (await count(es, index)) >= 2600, 20_000);
    await waitFor('the file acknowledged to its end', async () => acknowledged(dir, [join(dir, 'logs', 'app.log')]), 20_000);
    await expectMessagesOnce(es, index, app.written);
    app.close();
  });

  it('reads the rest of a file deleted while open, then releases it', async () => {
    const { dir, ns, index } = setup();
    const path = join(dir, 'logs', 'app.log');
    const app = new FdLogger(path, 'del');
    const agent = agentFor(dir, ns, 'logs/*.log');
    app.write(200);
    await waitFor('the agent to open the file', async () => openFiles(agent.proc.child.pid!).includes(path), 10_000, 50);
    unlinkSync(path);
    app.write(300); // the application still writes to its descriptor
    await waitFor('500 documents', async () => (await count(es, index)) >= 500, 20_000);
    app.close();
    await waitFor('the agent to release the deleted file', async () => !openFiles(agent.proc.child.pid!).some((f) => f.startsWith(path)), 15_000);
    await expectMessagesOnce(es, index, app.written);
  });

  it('picks up a new file matching the glob within about a second', async () => {
    const { dir, ns, index } = setup();
    const port = await freePort();
    agentFor(dir, ns, 'logs/*.log', '', `metrics:\n  listen: 127.0.0.1:${port}\n`);
    const linesRead = async () => Number(/^stacklens_agent_lines_read_total\{[^}]*\} (\d+)/m.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1] ?? 0);
    await waitFor('the agent to be up', async () => (await linesRead()) === 0, 20_000, 50);
    // A fixed wait is right here: it only lets a scan of the empty folder pass, so the timing
    // below starts from a steady scan cycle; no absence is asserted after it.
    await sleep(1200); // it has scanned the empty folder at least once
    const started = Date.now();
    appendFileSync(join(dir, 'logs', 'new.log'), 'hello from a new file\n');
    await waitFor('the agent to read the new file', async () => (await linesRead()) >= 1, 10_000, 20);
    // scan_interval is 1 s: discovery plus the first read, measured on the agent itself
    expect(Date.now() - started).toBeLessThan(1500);
    await waitFor('the line in Elasticsearch', async () => (await count(es, index)) >= 1, 10_000);
  });

  it('tails 500 files under one glob without holding 500 descriptors: idle files are closed and reopened at their offset', async () => {
    const { dir, ns, index } = setup();
    const agent = agentFor(dir, ns, 'logs/*.log', '    close_inactive: 2s\n');
    const expected: string[] = [];
    for (let i = 0; i < 500; i++) {
      const line = `file-${i} first line`;
      expected.push(line);
      appendFileSync(join(dir, 'logs', `f${i}.log`), `${line}\n`);
    }
    await waitFor('500 documents', async () => (await count(es, index)) >= 500, 60_000, 500);
    await waitFor('idle files to be closed', async () => openFiles(agent.proc.child.pid!).filter((f) => f.startsWith(join(dir, 'logs'))).length < 50, 20_000, 500);
    for (let i = 0; i < 500; i++) {
      const line = `file-${i} second line`;
      expected.push(line);
      appendFileSync(join(dir, 'logs', `f${i}.log`), `${line}\n`);
    }
    await waitFor('1,000 documents', async () => (await count(es, index)) >= 1000, 60_000, 500);
    await waitFor('every file acknowledged to its end', async () => acknowledged(dir, Array.from({ length: 500 }, (_, i) => join(dir, 'logs', `f${i}.log`))), 30_000, 500);
    await expectMessagesOnce(es, index, expected);
  });

  it('joins multiline events (stack traces) with a start pattern, splits at max_lines, flushes on timeout', async () => {
    const { dir, ns, index } = setup();
    agentFor(dir, ns, 'logs/*.log', "    multiline:\n      start_pattern: '^\\['\n      max_lines: 4\n      timeout: 500ms\n");
    const trace = [
      '[2024-11-16T10:30:00Z] ERROR payment failed',
      'java.lang.IllegalStateException: card declined',
      '    at com.pos.Payment.charge(Payment.java:42)',
      '    at com.pos.Order.close(Order.java:7)',
      'Caused by: java.io.IOException: timeout',
      '    at com.pos.Gateway.call(Gateway.java:99)',
    ];
    appendFileSync(join(dir, 'logs', 'app.log'), `${trace.join('\n')}\n[2024-11-16T10:30:01Z] INFO next order\n[2024-11-16T10:30:02Z] INFO last line, flushed by the timeout\n`);
    await waitFor('4 events', async () => (await count(es, index)) >= 4, 20_000);
    await waitFor('the file acknowledged to its end', async () => acknowledged(dir, [join(dir, 'logs', 'app.log')]), 20_000);
    const docs = (await allDocs(es, index)).map((d) => d._source).sort((a, b) => a.log.offset - b.log.offset);
    expect(docs.map((d) => d.message)).toEqual([
      trace.slice(0, 4).join('\n'),
      trace.slice(4).join('\n'),
      '[2024-11-16T10:30:01Z] INFO next order',
      '[2024-11-16T10:30:02Z] INFO last line, flushed by the timeout',
    ]);
    expect(docs[0].log.flags).toEqual(['multiline']);
    expect(docs[1].log.flags).toEqual(['multiline', 'multiline_split']);
    expect(docs[2].log.flags).toBeUndefined();
  });

  it('cuts and flags a line longer than max_line_bytes, and survives invalid UTF-8 and binary bytes without harming neighbours', async () => {
    const { dir, ns, index } = setup();
    agentFor(dir, ns, 'logs/*.log', '    max_line_bytes: 1KiB\n');
    const path = join(dir, 'logs', 'app.log');
    appendFileSync(path, 'before the long line\n');
    appendFileSync(path, `${'x'.repeat(5000)}\n`);
    appendFileSync(path, 'after the long line\n');
    appendFileSync(path, Buffer.concat([Buffer.from('bad bytes: '), Buffer.from([0xff, 0xfe, 0x00, 0xc3]), Buffer.from(' end\n')]));
    appendFileSync(path, 'after the bad bytes\n');
    await waitFor('5 events', async () => (await count(es, index)) >= 5, 20_000);
    await waitFor('the file acknowledged to its end', async () => acknowledged(dir, [join(dir, 'logs', 'app.log')]), 20_000);
    const docs = (await allDocs(es, index)).map((d) => d._source).sort((a, b) => a.log.offset - b.log.offset);
    expect(docs).toHaveLength(5);
    expect(docs[0].message).toBe('before the long line');
    expect(docs[1].message).toBe('x'.repeat(1024));
    expect(docs[1].log.flags).toEqual(['truncated']);
    expect(docs[2].message).toBe('after the long line');
    expect(docs[3].message.startsWith('bad bytes: ')).toBe(true);
    expect(docs[3].message.endsWith(' end')).toBe(true);
    expect(docs[3].message).toContain('\uFFFD');
    expect(docs[4].message).toBe('after the bad bytes');
  });
});
