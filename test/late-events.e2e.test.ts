// Events whose log time is far from now — an old log read for the first time (LogHub's lines
// of 2015), lines shipped after an outage longer than a rule's window, a clock ahead — open the
// incidents their problems are, through the real collector and Elasticsearch, as
// `stacklens rules test` finds them offline. Until this, a rule evaluated at the wall clock
// looked only at the last `window` of log time: a 2015 log through the agent opened none.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { esClient, startCollector, tempDir, uniqueNamespace, waitFor, type CollectorHandle } from './helpers.js';
import { incidentsOf } from './stack.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const running: CollectorHandle[] = [];
afterAll(async () => {
  for (const c of running) await c.stop();
});

let seq = 0;
async function send(c: CollectorHandle, dataset: string, ns: string, events: { at: string; message: string; level?: string; host?: string }[]): Promise<void> {
  const body = {
    agent: { id: `agent-${ns}` },
    events: events.map((e) => ({ id: `late-${ns}-${seq++}`, dataset, namespace: ns, doc: { '@timestamp': e.at, message: e.message, log: { level: e.level ?? 'error' }, ...(e.host ? { host: { name: e.host } } : {}) } })),
  };
  const res = await fetch(`${c.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(200);
  expect((await res.json()).indexed).toBe(events.length);
}

describe('events far from now in log time', () => {
  it('an old log opens one incident per problem (any), frequency counts in log time, an event ahead of the clock counts too', async () => {
    const ns = uniqueNamespace();
    const dir = tempDir();
    const rulesDir = join(dir, 'rules');
    mkdirSync(rulesDir);
    writeFileSync(join(rulesDir, 'any.yml'), `name: errors-${ns}\nseverity: high\ndataset: zk_${ns}\nnamespace: ${ns}\nfilter:\n  log.level: error\ntype: any\nwindow: 1m\n`);
    writeFileSync(join(rulesDir, 'freq.yml'), `name: bursts-${ns}\nseverity: high\ndataset: fr_${ns}\nnamespace: ${ns}\nfilter:\n  log.level: error\ntype: frequency\nthreshold: 3\nwindow: 5m\ngroup_by: [host.name]\n`);
    writeFileSync(join(rulesDir, 'burst.yml'), `name: burst-${ns}\nseverity: high\ndataset: bu_${ns}\nnamespace: ${ns}\nfilter:\n  log.level: warn\ntype: frequency\nthreshold: 20\nwindow: 1m\n`);
    const c = await startCollector(esUrl, { dir, rulesDir });
    running.push(c);

    // Two kinds of error in 2015, a month apart, out of order (two files concatenated); each
    // far outside a 1-minute window ending now.
    await send(c, `zk_${ns}`, ns, [
      { at: '2015-08-25T11:21:22.561Z', message: 'Exception causing close of session 0x14f05578bd80018 due to java.io.IOException' },
      { at: '2015-07-29T19:03:35.413Z', message: 'Unexpected exception causing shutdown while sock still open' },
      { at: '2015-07-29T19:03:54.584Z', message: 'Unexpected exception causing shutdown while sock still open' },
      { at: '2015-07-29T19:21:26.625Z', message: 'Unexpected exception causing shutdown while sock still open' },
      { at: '2015-07-29T19:22:00.000Z', message: 'all is well', level: 'info' },
    ]);
    // A host whose clock runs ten minutes ahead.
    const ahead = new Date(Date.now() + 10 * 60_000).toISOString();
    await send(c, `zk_${ns}`, ns, [{ at: ahead, message: 'Cannot open channel to 3 at election address /10.10.34.13:3888' }]);
    // frequency, in log time: h1 has three errors within five minutes of 2015; h2 three errors a day apart.
    await send(c, `fr_${ns}`, ns, [
      { at: '2015-07-29T19:00:00.000Z', message: 'Connection broken for id 1', host: 'h1' },
      { at: '2015-07-29T19:01:00.000Z', message: 'Connection broken for id 2', host: 'h1' },
      { at: '2015-07-29T19:02:00.000Z', message: 'Connection broken for id 3', host: 'h1' },
      { at: '2015-07-29T19:00:00.000Z', message: 'Connection broken for id 1', host: 'h2' },
      { at: '2015-07-30T19:00:00.000Z', message: 'Connection broken for id 2', host: 'h2' },
      { at: '2015-07-31T19:00:00.000Z', message: 'Connection broken for id 3', host: 'h2' },
    ]);

    // A burst whose minute straddles where spans of a minute would be cut: 1 warning at 0 s, 15 at
    // 50–54 s, 15 at 62–66 s, 1 at 120 s — 30 within the minute ending at 66 s (threshold 20).
    const second = (s: number, k = 0) => new Date(Date.parse('2020-01-01T00:00:00.000Z') + s * 1000 + k).toISOString();
    const seconds = [0, ...[50, 51, 52, 53, 54, 62, 63, 64, 65, 66].flatMap((s) => [s, s, s]), 120];
    await send(c, `bu_${ns}`, ns, seconds.map((s, k) => ({ at: second(s, k), message: `pump pressure low on unit ${k}`, level: 'warn' })));
    // Four incidents, the last span of the first kind counted too (or what there is after 30 s).
    const settled = (all: any[]) => all.length >= 5 && all.some((i) => i.message_template.startsWith('Unexpected') && i.count >= 3);
    let found: any[] = [];
    await waitFor('the incidents of the old log', async () => settled((found = await incidentsOf(es, ns))), 30_000).catch(() => undefined);
    const byRule = (name: string) => found.filter((i) => i.rule === name).map((i) => [i.message_template, i.count, i.first_seen]).sort();
    expect(byRule(`errors-${ns}`)).toEqual([
      ['Cannot open channel to <num> at election address <ip>', 1, ahead],
      ['Exception causing close of session <hex> due to java.io.IOException', 1, '2015-08-25T11:21:22.561Z'],
      ['Unexpected exception causing shutdown while sock still open', 3, '2015-07-29T19:03:35.413Z'],
    ]);
    expect(found.filter((i) => i.rule === `bursts-${ns}`).map((i) => [i.group_key, i.count])).toEqual([['host.name=h1', 3]]);
    const [burst, ...more] = found.filter((i) => i.rule === `burst-${ns}`);
    expect(more).toEqual([]);
    expect(burst?.summary).toMatch(/^pump pressure low on unit <num>: 2\d events in 1m \(threshold 20\)/);
    // What happens to an incident is in the wall clock: opened now, not in 2015 (nor resolved at once).
    for (const i of found) {
      expect(Math.abs(Date.parse(i.detected_at) - Date.now())).toBeLessThan(120_000);
      expect(i.status).toBe('open');
    }
  });
});
