// Real logs arrive intact (#12): through the real agent and collector CLIs into the real
// Elasticsearch, with default settings unless a case is about a setting. Every line must
// arrive once, byte-exact, where it was read (file and offset), and nothing is redacted that
// is not a secret. The eight defects of #12 are regression cases here, and the LogHub dev set
// (../shared/datasets) plus real-log shapes from other systems (test/fixtures/real-logs) are
// the corpus.
import { appendFileSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it, inject, beforeAll } from 'vitest';
import { REPO, allDocs, count, esClient, startAgent, tempDir, uniqueNamespace, useSharedCollector, waitFor, type AgentHandle, acknowledged } from './helpers.js';

const es = esClient(inject('esUrl'));
const shared = useSharedCollector(inject('esUrl'));
const LOGHUB = resolve(REPO, '..', 'shared', 'datasets', 'loghub-2k-dev');
const FIXTURES = join(REPO, 'test', 'fixtures', 'real-logs');

/** The lines a file holds as an agent reads them: LF-separated, a trailing CR dropped, empty lines skipped; with their byte offsets. */
function linesOf(bytes: Buffer): { offset: number; text: string }[] {
  const out: { offset: number; text: string }[] = [];
  let start = 0;
  for (let nl = bytes.indexOf(10); nl >= 0; nl = bytes.indexOf(10, start)) {
    let end = nl;
    if (end > start && bytes[end - 1] === 13) end--;
    if (end > start) out.push({ offset: start, text: bytes.toString('utf8', start, end) });
    start = nl + 1;
  }
  return out;
}

/** Every document of `index` keyed by file path and offset → message; fails on a doubled key. */
async function byPlace(index: string): Promise<Map<string, any>> {
  const docs = await allDocs(es, index);
  const out = new Map<string, any>();
  for (const d of docs) {
    const key = `${d._source.log.file.path}:${d._source.log.offset}`;
    expect(out.has(key), `doubled: ${key}`).toBe(false);
    out.set(key, d._source);
  }
  return out;
}


function agentYaml(id: string, inputs: string): string {
  return `id: ${id}\nstate_dir: ./state\ncollector:\n  url: ${shared.collector.url}\n  token: \${TEST_AGENT_TOKEN}\nbatch:\n  flush_interval: 100ms\nscan_interval: 200ms\ninputs:\n${inputs}`;
}

function run(dir: string, id: string, inputs: string): AgentHandle {
  const agent = startAgent(dir, agentYaml(id, inputs), { TEST_AGENT_TOKEN: shared.collector.token, STACKLENS_LOG_LEVEL: 'info' });
  shared.agents.push(agent);
  return agent;
}

describe('real logs arrive intact', () => {
  const ns = uniqueNamespace();
  const dir = tempDir();
  let agent: AgentHandle;
  const corpus = join(dir, 'corpus');
  const expected = new Map<string, string>();

  beforeAll(async () => {
    mkdirSync(corpus);
    const sources: string[] = readdirSync(FIXTURES).filter((f) => f.endsWith('.log')).map((f) => join(FIXTURES, f));
    if (existsSync(LOGHUB)) for (const system of readdirSync(LOGHUB)) if (existsSync(join(LOGHUB, system, `${system}_2k.log`))) sources.push(join(LOGHUB, system, `${system}_2k.log`));
    for (const src of sources) {
      const target = join(corpus, basename(src));
      copyFileSync(src, target);
      for (const l of linesOf(readFileSync(target))) expected.set(`${target}:${l.offset}`, l.text);
    }
    // A binary file under the same glob: skipped with a warning, nothing indexed from it.
    writeFileSync(join(corpus, 'core.log'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 3, 0, 0x3e]));
    agent = run(dir, `corpus-${ns}`, `  - paths: ["corpus/*.log"]\n    format: plain\n    dataset: corpus\n    namespace: ${ns}\n`);
  });

  it(`ships real logs from many systems with default settings: every line once, byte-exact, at its offset, nothing redacted`, async () => {
    const index = `logs-corpus-${ns}`;
    await waitFor(`${expected.size} lines`, async () => (await count(es, index)) >= expected.size, 120_000, 500);
    const texts = readdirSync(corpus).filter((f) => f !== 'core.log').map((f) => join(corpus, f));
    await waitFor('every corpus file acknowledged to its end', async () => acknowledged(dir, texts), 60_000, 500);
    const got = await byPlace(index);
    const wrong = [...expected].filter(([key, text]) => got.get(key)?.message !== text).slice(0, 5);
    expect(wrong.map(([key, text]) => ({ key, text, got: got.get(key)?.message }))).toEqual([]);
    expect(got.size).toBe(expected.size);
    expect([...got.values()].filter((d) => d.log.flags)).toEqual([]);
    expect(agent.proc.output).toMatch(/core\.log.*file is not text|file is not text.*core\.log/);
  });
});

describe('regressions of #12', () => {
  it('files whose first lines (or first 1,999 lines) are equal: all lines arrive, in one input and across inputs', async () => {
    const ns = uniqueNamespace();
    const dir = tempDir();
    for (const d of ['a', 'b']) mkdirSync(join(dir, d));
    const header = '[10.30 16:49:06] chrome.exe - proxy.cse.cuhk.edu.hk:5070 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS\n';
    const common = Array.from({ length: 1999 }, (_, i) => `[10.30 16:49:${String(i % 60).padStart(2, '0')}] chrome.exe - 177.71.166.62:443 close, ${i} bytes sent\n`).join('');
    writeFileSync(join(dir, 'a', 'proxifier.log'), header + common + 'the end of a\n');
    // A CSV file identified while it holds only its header line.
    writeFileSync(join(dir, 'a', 'first.csv.log'), 'timestamp,level,message\n');
    const agent = run(dir, `dup-${ns}`, `  - paths: ["a/*.log"]\n    format: plain\n    dataset: dupa\n    namespace: ${ns}\n  - paths: ["b/*.log"]\n    format: plain\n    dataset: dupb\n    namespace: ${ns}\n`);
    await waitFor('input a shipped', async () => (await count(es, `logs-dupa-${ns}`)) >= 2002, 60_000);
    // Now files starting with the same bytes arrive: in the other input, and in the same one —
    // a second CSV that also holds only the header when first seen (the two cannot be told
    // apart by content: the inode breaks the tie).
    writeFileSync(join(dir, 'b', 'proxifier.log'), header + common + 'the end of b\n');
    writeFileSync(join(dir, 'a', 'second.csv.log'), 'timestamp,level,message\n');
    await waitFor('the second header', async () => (await count(es, `logs-dupa-${ns}`)) >= 2003, 60_000);
    appendFileSync(join(dir, 'a', 'first.csv.log'), '2024-01-01,INFO,one\n');
    appendFileSync(join(dir, 'a', 'second.csv.log'), '2024-01-01,INFO,two\n');
    await waitFor('every line of both inputs', async () => (await count(es, `logs-dupa-${ns}`)) >= 2005 && (await count(es, `logs-dupb-${ns}`)) >= 2001, 60_000);
    const files = ['a/proxifier.log', 'a/first.csv.log', 'a/second.csv.log', 'b/proxifier.log'].map((f) => join(dir, f));
    await waitFor('every file acknowledged to its end', async () => acknowledged(dir, files), 30_000);
    const a = await byPlace(`logs-dupa-${ns}`);
    const b = await byPlace(`logs-dupb-${ns}`);
    expect(a.size).toBe(2005);
    expect(b.size).toBe(2001);
    expect([...b.values()].map((d) => d.message)).toContain('the end of b');
    expect([...a.values()].map((d) => d.message).filter((m) => m.startsWith('2024-01-01'))).toEqual(expect.arrayContaining(['2024-01-01,INFO,one', '2024-01-01,INFO,two']));
    expect(agent.proc.output).toContain('starts with the same bytes as another file');
  });

  it('container logs: docker json-file read with format json keeps the text; cri joins partial lines', async () => {
    const ns = uniqueNamespace();
    const dir = tempDir();
    const docker = [
      '{"log":"17/06/09 20:10:40 INFO executor.Executor: Running task 0.0\\n","stream":"stderr","time":"2017-06-09T20:10:40.123456789Z"}',
      '{"log":"a line the runtime split ","stream":"stdout","time":"2017-06-09T20:10:41Z"}',
      '{"log":"in two\\n","stream":"stdout","time":"2017-06-09T20:10:41.5Z"}',
      'garbage that is not json',
    ];
    writeFileSync(join(dir, 'container.json.log'), docker.join('\n') + '\n');
    writeFileSync(join(dir, 'container.cri.log'), '2017-06-09T20:10:40.123456789Z stdout P partial \n2017-06-09T20:10:40.2Z stdout F end\n2017-06-09T20:10:41+00:00 stderr F whole line\n');
    run(
      dir,
      `ctr-${ns}`,
      `  - paths: ["container.json.log"]\n    format: json\n    dataset: dockerjson\n    namespace: ${ns}\n` +
        `  - paths: ["container.cri.log"]\n    format: cri\n    dataset: cri\n    namespace: ${ns}\n`,
    );
    await waitFor('json + cri', async () => (await count(es, `logs-dockerjson-${ns}`)) >= 3 && (await count(es, `logs-cri-${ns}`)) >= 2, 60_000);
    // The garbage line's dead letter may travel in a later batch: wait until both files are acknowledged to their end.
    await waitFor('both files acknowledged to their end', async () => acknowledged(dir, [join(dir, 'container.json.log'), join(dir, 'container.cri.log')]), 30_000);
    const json = (await allDocs(es, `logs-dockerjson-${ns}`)).map((d) => d._source).sort((x, y) => x.log.offset - y.log.offset);
    expect(json.map((d) => d.message)).toEqual(['17/06/09 20:10:40 INFO executor.Executor: Running task 0.0', 'a line the runtime split ', 'in two']);
    expect(json[0]).toMatchObject({ '@timestamp': '2017-06-09T20:10:40.123456789Z', stream: 'stderr' });
    const cri = (await allDocs(es, `logs-cri-${ns}`)).map((d) => d._source).sort((x, y) => x.log.offset - y.log.offset);
    expect(cri.map((d) => [d.message, d.stream, d['@timestamp']])).toEqual([
      ['partial end', 'stdout', '2017-06-09T20:10:40.123456789Z'],
      ['whole line', 'stderr', '2017-06-09T20:10:41.000Z'],
    ]);
    const dead = await allDocs(es, 'logs-stacklens.deadletter-default', { term: { 'agent.id': `ctr-${ns}` } });
    expect(dead.map((d) => d._source.event.original)).toEqual(['garbage that is not json']);
  });

  it('format docker joins partial lines', async () => {
    const ns = uniqueNamespace();
    const dir = tempDir();
    const lines = [
      '{"log":"one ","stream":"stdout","time":"2017-06-09T20:10:41Z"}',
      '{"log":"stderr whole\\n","stream":"stderr","time":"2017-06-09T20:10:41.1Z"}',
      '{"log":"two ","stream":"stdout","time":"2017-06-09T20:10:41.2Z"}',
      '{"log":"three\\r\\n","stream":"stdout","time":"2017-06-09T20:10:41.3Z"}',
    ];
    writeFileSync(join(dir, 'c.log'), lines.join('\n') + '\n');
    run(dir, `docker-${ns}`, `  - paths: ["c.log"]\n    format: docker\n    dataset: docker\n    namespace: ${ns}\n`);
    await waitFor('2 events', async () => (await count(es, `logs-docker-${ns}`)) >= 2, 30_000);
    await waitFor('the file acknowledged to its end', async () => acknowledged(dir, [join(dir, 'c.log')]), 30_000);
    const docs = (await allDocs(es, `logs-docker-${ns}`)).map((d) => d._source).sort((x, y) => x.log.offset - y.log.offset);
    expect(docs.map((d) => [d.message, d.stream, d['@timestamp']])).toEqual([
      ['one two three', 'stdout', '2017-06-09T20:10:41Z'],
      ['stderr whole', 'stderr', '2017-06-09T20:10:41.1Z'],
    ]);
  });

  it('compressed rotated files: excluded by default, read exactly once with decompress: true (also after the plain file they were compressed from)', async () => {
    const ns = uniqueNamespace();
    const dir = tempDir();
    for (const d of ['plain', 'z']) mkdirSync(join(dir, d));
    const old = Array.from({ length: 300 }, (_, i) => `2024-11-16T10:00:${String(i % 60).padStart(2, '0')}Z rotated line ${i}`);
    for (const d of ['plain', 'z']) {
      writeFileSync(join(dir, d, 'app.log.2.gz'), gzipSync(old.join('\n') + '\n'));
      writeFileSync(join(dir, d, 'app.log'), 'current 0\n');
    }
    const inputs = `  - paths: ["plain/app.log*"]\n    format: plain\n    dataset: rotplain\n    namespace: ${ns}\n  - paths: ["z/app.log*"]\n    format: plain\n    dataset: rotz\n    namespace: ${ns}\n    decompress: true\n`;
    const agent = run(dir, `rot-${ns}`, inputs);
    await waitFor('301 in rotz', async () => (await count(es, `logs-rotz-${ns}`)) >= 301 && (await count(es, `logs-rotplain-${ns}`)) >= 1, 60_000);
    // logrotate with compress while the agent is down: app.log (partly read) → app.log.1 → app.log.1.gz, new app.log.
    appendFileSync(join(dir, 'z', 'app.log'), 'current 1\n');
    await waitFor('current 1', async () => (await count(es, `logs-rotz-${ns}`)) >= 302, 30_000);
    await agent.stop();
    appendFileSync(join(dir, 'z', 'app.log'), 'current 2 (written while the agent was down)\n');
    const rotated = readFileSync(join(dir, 'z', 'app.log'));
    writeFileSync(join(dir, 'z', 'app.log.1.gz'), gzipSync(rotated));
    unlinkSync(join(dir, 'z', 'app.log'));
    writeFileSync(join(dir, 'z', 'app.log'), 'after rotation\n');
    agent.restart();
    await waitFor('every line', async () => (await count(es, `logs-rotz-${ns}`)) >= 304, 30_000);
    // Every file the inputs read, the compressed ones included, is done: nothing is in flight.
    const read = ['z/app.log', 'z/app.log.1.gz', 'z/app.log.2.gz', 'plain/app.log'].map((f) => join(dir, f));
    await waitFor('every file read acknowledged to its end', async () => acknowledged(dir, read), 30_000);
    const zDocs = await allDocs(es, `logs-rotz-${ns}`);
    expect(new Set(zDocs.map((d) => `${d._source.log.file.identity}:${d._source.log.offset}`)).size).toBe(zDocs.length);
    const z = zDocs.map((d) => d._source.message).sort();
    expect(z).toEqual([...old, 'current 0', 'current 1', 'current 2 (written while the agent was down)', 'after rotation'].sort());
    const plain = (await allDocs(es, `logs-rotplain-${ns}`)).map((d) => d._source.message);
    expect(plain).toEqual(['current 0']);
  });

  it('encodings: a Latin-1 file is flagged invalid_utf8 and counted by default, exact with encoding latin1; UTF-16 read with its BOM', async () => {
    const ns = uniqueNamespace();
    const dir = tempDir();
    for (const d of ['u8', 'l1', 'u16']) mkdirSync(join(dir, d));
    const latin1 = Buffer.from('Adi\xf3s se\xf1or\nplain ascii\n', 'latin1');
    writeFileSync(join(dir, 'u8', 'w.log'), latin1);
    writeFileSync(join(dir, 'l1', 'w.log'), latin1);
    writeFileSync(join(dir, 'u16', 'w.log'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Grüße aus Köln\r\n\r\n\u0a0a second\r\nСлужба запущена\r\n', 'utf16le')]));
    run(
      dir,
      `enc-${ns}`,
      `  - paths: ["u8/*.log"]\n    format: plain\n    dataset: encu8\n    namespace: ${ns}\n` +
        `  - paths: ["l1/*.log"]\n    format: plain\n    dataset: encl1\n    namespace: ${ns}\n    encoding: latin1\n` +
        `  - paths: ["u16/*.log"]\n    format: plain\n    dataset: encu16\n    namespace: ${ns}\n    encoding: utf-16le\n`,
    );
    await waitFor('all three', async () => (await count(es, `logs-encu8-${ns}`)) >= 2 && (await count(es, `logs-encl1-${ns}`)) >= 2 && (await count(es, `logs-encu16-${ns}`)) >= 3, 30_000);
    const sorted = async (ds: string) => (await allDocs(es, `logs-${ds}-${ns}`)).map((d) => d._source).sort((x, y) => x.log.offset - y.log.offset);
    const u8 = await sorted('encu8');
    expect(u8.map((d) => [d.message, d.log.flags])).toEqual([
      ['Adi\uFFFDs se\uFFFDor', ['invalid_utf8']],
      ['plain ascii', undefined],
    ]);
    expect((await sorted('encl1')).map((d) => [d.message, d.log.flags])).toEqual([
      ['Adiós señor', undefined],
      ['plain ascii', undefined],
    ]);
    expect((await sorted('encu16')).map((d) => d.message)).toEqual(['Grüße aus Köln', '\u0a0a second', 'Служба запущена']);
  });

  it('json lines: ES-7, zone-less and epoch timestamps; an "error" string is kept as error.message; a mapping conflict dead-letters the line as read', async () => {
    const ns = uniqueNamespace();
    const dir = tempDir();
    const lines = [
      '{"@timestamp":"2017-06-09T20:10:41,190+0000","message":"es7 style","log.level":"INFO"}',
      '{"@timestamp":"2017-06-09 20:10:41.190","message":"zone-less, read in the input time zone"}',
      '{"@timestamp":1497039058810,"message":"epoch millis"}',
      '{"level":"error","ts":1497039058.81,"msg":"dial failed","error":"connection refused","caller":"net/dial.go:42"}',
      '{"time":"2017-06-09T20:10:42Z","msg":"first of a field","http":{"status":500}}',
      '{"time":"2017-06-09T20:10:43Z","msg":"the same field as another type","http":{"status":{"code":"not a number"}}}',
    ];
    writeFileSync(join(dir, 'svc.log'), lines.join('\n') + '\n');
    run(dir, `json-${ns}`, `  - paths: ["svc.log"]\n    format: json\n    dataset: svc\n    namespace: ${ns}\n    timezone: Europe/Berlin\n`);
    const dlQuery = { term: { 'agent.id': `json-${ns}` } };
    await waitFor('5 indexed + 1 dead letter', async () => (await count(es, `logs-svc-${ns}`)) >= 5 && (await count(es, 'logs-stacklens.deadletter-default', dlQuery)) >= 1, 30_000);
    const docs = (await allDocs(es, `logs-svc-${ns}`)).map((d) => d._source).sort((x, y) => x.log.offset - y.log.offset);
    expect(docs.map((d) => [d.message, d['@timestamp']])).toEqual([
      ['es7 style', '2017-06-09T20:10:41.190Z'],
      ['zone-less, read in the input time zone', '2017-06-09T18:10:41.190Z'],
      ['epoch millis', '2017-06-09T20:10:58.810Z'],
      ['dial failed', '2017-06-09T20:10:58.810Z'],
      ['first of a field', '2017-06-09T20:10:42Z'],
    ]);
    expect(docs[3].error).toEqual({ message: 'connection refused' });
    expect(docs[3].log.level).toBe('error');
    const dead = await allDocs(es, 'logs-stacklens.deadletter-default', dlQuery);
    expect(dead.map((d) => d._source.event.original)).toEqual([lines[5]]);
    expect(dead[0]._source.error.type).toBe('mapping');
  });

  it('multiline: a pause inside a trace flags the orphan rest multiline_split; start and continuation patterns together', async () => {
    const ns = uniqueNamespace();
    const dir = tempDir();
    const file = join(dir, 'trace.log');
    writeFileSync(file, '2024-11-16 10:00:00 ERROR boom\njava.io.IOException: reset\n\tat A.b(A.java:1)\n');
    run(
      dir,
      `ml-${ns}`,
      `  - paths: ["trace.log"]\n    format: plain\n    dataset: ml\n    namespace: ${ns}\n    multiline:\n      start_pattern: '^\\d{4}-'\n      continuation_pattern: '^(\\s|Caused by:|[a-z]+\\.[\\w.]+(Exception|Error))'\n      timeout: 300ms\n`,
    );
    await waitFor('the head of the trace', async () => (await count(es, `logs-ml-${ns}`)) >= 1, 30_000);
    appendFileSync(file, '\tat C.d(C.java:2)\nCaused by: x\nno timestamp and no indent\n2024-11-16 10:00:01 INFO next\n');
    await waitFor('4 events', async () => (await count(es, `logs-ml-${ns}`)) >= 4, 30_000);
    await waitFor('the file acknowledged to its end', async () => acknowledged(dir, [file]), 30_000);
    const docs = (await allDocs(es, `logs-ml-${ns}`)).map((d) => d._source).sort((x, y) => x.log.offset - y.log.offset);
    expect(docs.map((d) => [d.message, d.log.flags])).toEqual([
      ['2024-11-16 10:00:00 ERROR boom\njava.io.IOException: reset\n\tat A.b(A.java:1)', ['multiline']],
      ['\tat C.d(C.java:2)\nCaused by: x', ['multiline', 'multiline_split']],
      ['no timestamp and no indent', undefined],
      ['2024-11-16 10:00:01 INFO next', undefined],
    ]);
  });

  it('copytruncate under a writer without O_APPEND: the NUL hole it leaves is skipped, not taken for a binary file', async () => {
    const ns = uniqueNamespace();
    const dir = tempDir();
    mkdirSync(join(dir, 'l'));
    const path = join(dir, 'l', 'app.log');
    const fd = openSync(path, 'w'); // like `app > app.log`: writes go on at the fd's own offset
    const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => `2024-11-16T10:00:00Z worker ${from + i} done`);
    writeSync(fd, lines(0, 200).join('\n') + '\n');
    run(dir, `hole-${ns}`, `  - paths: ["l/app.log*"]\n    format: plain\n    dataset: hole\n    namespace: ${ns}\n`);
    await waitFor('200 lines', async () => (await count(es, `logs-hole-${ns}`)) >= 200, 30_000);
    copyFileSync(path, join(dir, 'l', 'app.log.1'));
    truncateSync(path, 0);
    writeSync(fd, lines(200, 199).join('\n') + '\n');
    closeSync(fd);
    await waitFor('399 lines', async () => (await count(es, `logs-hole-${ns}`)) >= 399, 30_000);
    await waitFor('both files acknowledged to their end', async () => acknowledged(dir, [path, join(dir, 'l', 'app.log.1')]), 30_000);
    const messages = (await allDocs(es, `logs-hole-${ns}`)).map((d) => d._source.message);
    expect(messages.length).toBe(399);
    expect(new Set(messages)).toEqual(new Set(lines(0, 399)));
  });

  it('files that start with the same 1.3 KB banner: rotation while running and while stopped loses and doubles nothing', async () => {
    const ns = uniqueNamespace();
    const dir = tempDir();
    mkdirSync(join(dir, 'run'));
    mkdirSync(join(dir, 'stop'));
    const banner = Array.from({ length: 30 }, (_, i) => `Loading module com.example.module${String(i).padStart(2, '0')} ... OK`).join('\n') + '\n';
    const body = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag} line ${i}`).join('\n') + '\n';
    writeFileSync(join(dir, 'run', 'app.log'), banner + body('run-old', 3));
    writeFileSync(join(dir, 'stop', 'app.log'), banner + body('stop-old', 20));
    const agent = run(
      dir,
      `banner-${ns}`,
      `  - paths: ["run/*.log"]\n    format: plain\n    dataset: bannerrun\n    namespace: ${ns}\n  - paths: ["stop/app.log*"]\n    format: plain\n    dataset: bannerstop\n    namespace: ${ns}\n`,
    );
    await waitFor('both files', async () => (await count(es, `logs-bannerrun-${ns}`)) >= 33 && (await count(es, `logs-bannerstop-${ns}`)) >= 50, 30_000);
    // logrotate create while the agent runs (the rotated name is outside the glob)
    renameSync(join(dir, 'run', 'app.log'), join(dir, 'run', 'app.log.1'));
    writeFileSync(join(dir, 'run', 'app.log'), banner + body('run-new', 50));
    await waitFor('the new run file', async () => (await count(es, `logs-bannerrun-${ns}`)) >= 113, 30_000);
    // logrotate create while the agent is stopped (the rotated name inside the glob)
    await agent.stop();
    appendFileSync(join(dir, 'stop', 'app.log'), body('stop-late', 5));
    renameSync(join(dir, 'stop', 'app.log'), join(dir, 'stop', 'app.log.1'));
    writeFileSync(join(dir, 'stop', 'app.log'), banner + body('stop-new', 40));
    agent.restart();
    await waitFor('the new stop file', async () => (await count(es, `logs-bannerstop-${ns}`)) >= 125, 30_000);
    const tailed = ['run/app.log', 'stop/app.log', 'stop/app.log.1'].map((f) => join(dir, f));
    await waitFor('every file in the globs acknowledged to its end', async () => acknowledged(dir, tailed), 30_000);
    const tally = async (ds: string) => {
      const docs = await allDocs(es, `logs-${ds}-${ns}`);
      const byMessage = new Map<string, number>();
      for (const d of docs) byMessage.set(d._source.message, (byMessage.get(d._source.message) ?? 0) + 1);
      return { total: docs.length, byMessage };
    };
    const r = await tally('bannerrun');
    expect(r.total).toBe(30 + 3 + 30 + 50);
    expect(r.byMessage.get('Loading module com.example.module00 ... OK')).toBe(2);
    expect(r.byMessage.get('run-new line 0')).toBe(1);
    const st = await tally('bannerstop');
    expect(st.total).toBe(30 + 20 + 5 + 30 + 40);
    expect(st.byMessage.get('stop-late line 4')).toBe(1);
    expect(st.byMessage.get('stop-new line 0')).toBe(1);
    expect(st.byMessage.get('stop-old line 0')).toBe(1);
  });

  it('dead letters are masked like documents: secret keys, and a card behind a JSON escape', async () => {
    const ns = uniqueNamespace();
    const dir = tempDir();
    const lines = [
      '{"ts":"not a time","msg":"x","db_password":"fake-db-password-1","token":"fake-token-0123456789","secret":"fake-secret-0123456"}',
      '{"ts":"2024-11-16T10:30:00Z","status":5,"msg":"first"}',
      '{"ts":"2024-11-16T10:30:01Z","status":"not-a-number","msg":"conflict\\n4111111111111111"}',
    ];
    writeFileSync(join(dir, 'svc.log'), lines.join('\n') + '\n');
    run(dir, `dlsec-${ns}`, `  - paths: ["svc.log"]\n    format: json\n    dataset: dlsec\n    namespace: ${ns}\n`);
    const q = { term: { 'agent.id': `dlsec-${ns}` } };
    const dead = await waitFor('2 dead letters', async () => {
      const d = await allDocs(es, 'logs-stacklens.deadletter-default', q);
      return d.length >= 2 && d;
    });
    const text = JSON.stringify(dead);
    for (const secret of ['fake-db-password-1', 'fake-token-0123456789', 'fake-secret-0123456', '4111111111111111']) expect(text).not.toContain(secret);
    expect(text).toContain('[REDACTED-CARD-1111]');
  });
});
