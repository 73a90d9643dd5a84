// Message templates through real collectors (#16): two collectors, and one restarted, give
// the same kind of message the same template id; a template that generalizes keeps its id,
// so its incident stays one incident; GET /api/templates lists it with its trend.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { allDocs, esClient, startCollector, tempDir, uniqueNamespace, waitFor, type CollectorHandle } from './helpers.js';
import { ADMIN, VIEWER, api, incidentsOf } from './stack.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const running: CollectorHandle[] = [];
const OTHER_VIEWER = `other-viewer-${Math.random().toString(36).slice(2)}-token`;
afterAll(async () => {
  for (const c of running.splice(0)) await c.stop('SIGKILL');
});

let seq = 0;
async function send(c: CollectorHandle, ns: string, message: string): Promise<void> {
  const body = { agent: { id: `agent-${ns}` }, events: [{ id: `e${seq++}`, dataset: `sshd_${ns}`, namespace: ns, doc: { '@timestamp': new Date().toISOString(), message, log: { level: 'error' } } }] };
  const res = await fetch(`${c.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(200);
  expect((await res.json()).indexed).toBe(1);
}

describe('message templates through the collector', () => {
  it('two collectors and a restarted one give one kind of message one id; its incident stays one as the template generalizes', async () => {
    const ns = uniqueNamespace();
    const dir = tempDir();
    const rulesDir = join(dir, 'rules');
    mkdirSync(rulesDir);
    writeFileSync(join(rulesDir, 'ssh.yml'), `name: ssh-errors-${ns}\nseverity: high\ndataset: sshd_${ns}\nnamespace: ${ns}\nfilter:\n  log.level: error\ntype: any\nwindow: 5m\nrun_every: 1s\n`);
    const token = `agent-token-${ns}`;
    // A viewer of another team: its datasets are not this test's.
    const extra = `detection:\n  schedule: 500ms\napi:\n  admin_tokens: ["${ADMIN}"]\n  viewer_tokens: ["${VIEWER}"]\n  tokens:\n    - { name: other-viewer, token: "${OTHER_VIEWER}", role: viewer, teams: [other] }\nchat:\n  teams:\n    other:\n      datasets: [other_${ns}]\n`;
    const collectors: CollectorHandle[] = [];
    for (const name of ['a', 'b']) {
      mkdirSync(join(dir, name));
      const c = await startCollector(esUrl, { dir: join(dir, name), token, extra, rulesDir });
      collectors.push(c);
      running.push(c);
    }
    const [a, b] = collectors;
    // Templates are per dataset, across namespaces: a dataset of this test's own starts with none.

    await send(a, ns, 'Invalid user admin from 5.188.10.180 port 4242');
    const [incident] = await waitFor('the incident', async () => {
      const found = await incidentsOf(es, ns);
      return found.length ? found : undefined;
    }, 30_000);
    expect(incident.template_id).toMatch(/^[0-9a-f]{16}$/);
    expect(incident.message_template).toBe('Invalid user admin from <ip> port <num>');

    // B never saw this kind of message: it reads A's template before it would create one.
    await send(b, ns, 'Invalid user support from 103.99.0.122 port 50990');
    await send(a, ns, 'Invalid user oracle from 187.141.143.180 port 1022');
    await b.stop();
    await b.restart();
    await send(b, ns, 'Invalid user guest from 10.0.0.1 port 22');

    const index = `logs-sshd_${ns}-${ns}`;
    await es.indices.refresh({ index });
    const docs = await allDocs(es, index);
    expect(docs).toHaveLength(4);
    expect(new Set(docs.map((d) => d._source.stacklens.template_id))).toEqual(new Set([incident.template_id]));
    const texts = docs.map((d) => d._source.stacklens.message_template);
    expect(texts).toContain('Invalid user <*> from <ip> port <num>');

    // One incident, counting all four, its id and template id unchanged.
    const [after] = await waitFor('the incident counting all four', async () => {
      const found = await incidentsOf(es, ns);
      return found.length === 1 && found[0].count === 4 ? found : undefined;
    }, 30_000);
    expect(after).toMatchObject({ id: incident.id, template_id: incident.template_id });

    // The API: the template with its count in the range and, once flushed, its store fields.
    const listed = await waitFor('the template in GET /api/templates', async () => {
      const res = await api(a, `/templates?dataset=sshd_${ns}&from=now-1h`, { token: VIEWER });
      const t = res.body.datasets?.[0]?.templates?.find((x: any) => x.id === incident.template_id);
      return t?.total === 4 ? t : undefined;
    }, 30_000);
    expect(listed).toMatchObject({ dataset: `sshd_${ns}`, count: 4, template: 'Invalid user <*> from <ip> port <num>', trend: { direction: 'new' } });
    expect(listed.histogram).toHaveLength(12);
    expect(listed.examples[0]).toBe('Invalid user admin from 5.188.10.180 port 4242');
    // Another team's viewer does not see this dataset's templates, even when it names the dataset.
    const other = await api(a, `/templates?dataset=sshd_${ns}&from=now-1h`, { token: OTHER_VIEWER });
    expect(other.status).toBe(200);
    expect(other.body.datasets).toEqual([]);
  });

  it('GET /api/templates refuses bad parameters, naming them', async () => {
    const c = running[0] ?? (await startCollector(esUrl, { extra: `api:\n  viewer_tokens: ["${VIEWER}"]\n` }));
    if (!running.includes(c)) running.push(c);
    expect(await api(c, '/templates?size=0', { token: VIEWER })).toMatchObject({ status: 400, body: { error: expect.stringContaining('size') } });
    expect(await api(c, '/templates?dataset=Bad*Name', { token: VIEWER })).toMatchObject({ status: 400, body: { error: expect.stringContaining('dataset') } });
    expect(await api(c, '/templates?window=1h', { token: VIEWER })).toMatchObject({ status: 400, body: { error: expect.stringContaining('window') } });
    expect(await api(c, '/templates?from=now-1h&to=now-2h', { token: VIEWER })).toMatchObject({ status: 400, body: { error: expect.stringContaining('from') } });
    expect((await api(c, '/templates?from=now-1h&to=now', { token: VIEWER })).status).toBe(200);
    expect((await api(c, '/templates', { token: '' })).status).toBe(401);
  });
});
