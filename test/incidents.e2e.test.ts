// Rules and incidents end to end, through the CLIs: an agent tails POS logs, collectors
// index them and run rules from a rules directory, and we look at stacklens-incidents and
// the admin API as a user would.
import { writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { posErrorLine, posOrderLine } from '@stacklens/demo';
import { count, esClient, sleep, waitFor, type AgentHandle, type CollectorHandle } from './helpers.js';
import { VIEWER, api, incidentsOf, missingPrice, missingPriceRule, startStack as startStackIn } from './stack.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const running: (AgentHandle | CollectorHandle)[] = [];
const startStack = (rules: Record<string, string>, opts: { collectors?: number } = {}) => startStackIn(esUrl, running, rules, opts);
const incidents = (ns: string, query?: object) => incidentsOf(es, ns, query);

afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
});
describe('rules and incidents through the collector', () => {
  it('three MISSING_PRICE lines in a store open one incident; #999 and #1001 are the same; a thousand more update it', async () => {
    const s = await startStack({ 'missing-price.yml': missingPriceRule('$NS') });
    const c = s.collectors[0];
    const evaluations = async () => {
      const text = await (await fetch(`${c.url}/metrics`)).text();
      return Number(/^stacklens_rule_evaluations_total\{rule="pos-missing-price",trigger="event"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const evaluated = await evaluations();
    s.log.append([posOrderLine(), missingPrice('STORE_001', 999), missingPrice('STORE_001', 1001), missingPrice('STORE_002')]);
    // 2 in STORE_001, 1 in STORE_002: below the threshold. Once the lines are indexed and the
    // rule has evaluated them, nothing is open.
    await waitFor('the lines indexed and evaluated', async () => (await count(es, `logs-pos-${s.ns}`)) === 4 && (await evaluations()) > evaluated, 30_000);
    expect(await incidents(s.ns)).toEqual([]);

    const third = Date.now();
    s.log.append([missingPrice('STORE_001', 999)]);
    const [inc] = await waitFor('the incident', async () => {
      const found = await api(c, `/incidents?rule=pos-missing-price&group_key=${encodeURIComponent('pos.store_id=STORE_001')}`, { token: VIEWER });
      return found.body.incidents.filter((i: any) => i.index === `logs-pos-${s.ns}`).length ? found.body.incidents : undefined;
    }, 30_000, 100).catch((err) => { throw new Error(`${err.message}\n${c.proc.output}`); });
    expect(inc).toMatchObject({
      rule: 'pos-missing-price',
      severity: 'critical',
      status: 'open',
      group_key: 'pos.store_id=STORE_001',
      message_template: 'Product #<*> has no price',
      count: 3,
      fire_count: 1,
      runbook: "Set the product's price in the master data, then re-run the order.",
    });
    expect(inc.timeline.map((t: any) => t.stage)).toEqual(['detected']);
    expect(Date.parse(inc.detected_at)).toBeGreaterThanOrEqual(third); // opened by the third line, not before
    expect(inc.samples.length).toBe(3);
    expect(inc.samples.map((x: any) => x.message).sort()).toEqual(['Product #1001 has no price', 'Product #999 has no price', 'Product #999 has no price']);

    s.log.append(Array.from({ length: 1000 }, () => missingPrice('STORE_001')));
    const updated = await waitFor('a count of 1003', async () => {
      const [i] = await incidents(s.ns);
      return i?.count === 1003 ? i : undefined;
    }, 60_000, 250);
    expect(updated).toMatchObject({ id: inc.id, fire_count: 1, status: 'open' });
    expect(await incidents(s.ns)).toHaveLength(1);
  });

  it('a collector restart neither re-fires inside realert nor misses the window, and two collectors open each incident once', async () => {
    const s = await startStack({ 'missing-price.yml': missingPriceRule('$NS') }, { collectors: 2 });
    s.log.append(['STORE_001', 'STORE_002', 'STORE_003'].flatMap((store) => [missingPrice(store), missingPrice(store), missingPrice(store)]));
    await waitFor('three incidents', async () => (await incidents(s.ns)).length === 3, 30_000);

    // Both collectors evaluate; scheduled slots (run_every long, from multiples of it) are
    // claimed by one of them at a time: each slot runs once in all, by either.
    const rules = () => Promise.all(s.collectors.map((c) => api(c, '/rules', { token: VIEWER })));
    const every: number = (await rules())[0].body.rules[0].durations_ms.run_every; // window / 4 = 15 s
    const runs = async () => (await rules()).reduce((n, r) => n + (r.body.rules[0].scheduled_runs_here as number), 0);
    const before = await runs();
    const t0 = Date.now();
    // Into the next slot, and for its run.
    await sleep((Math.floor(t0 / every) + 1) * every - t0);
    await waitFor('the scheduled run of the slot that began', async () => (await runs()) > before, 10_000, 250);
    await sleep(1500); // time for a second run of that slot, were the claim to let one through
    const ran = (await runs()) - before;
    const slots = Math.floor(Date.now() / every) - Math.floor(t0 / every); // slots begun since t0
    expect(slots).toBeGreaterThanOrEqual(1);
    expect(ran).toBeGreaterThanOrEqual(slots);
    // One more at most: the slot begun just before t0 may have run after `before` was read.
    expect(ran).toBeLessThanOrEqual(slots + 1);

    // Kill one collector mid-stream, write more, restart it.
    await s.collectors[0].stop('SIGKILL');
    s.log.append(Array.from({ length: 20 }, () => missingPrice('STORE_001')));
    await s.collectors[0].restart();
    s.log.append(Array.from({ length: 20 }, () => missingPrice('STORE_001')));
    const inc = await waitFor('count 43 on STORE_001', async () => {
      const found = (await incidents(s.ns)).find((i) => i.group_key === 'pos.store_id=STORE_001');
      return found?.count === 43 ? found : undefined;
    }, 60_000, 250);
    const all = await incidents(s.ns);
    expect(all).toHaveLength(3);
    for (const i of all) {
      expect(i.fire_count).toBe(1);
      expect(i.timeline.filter((t: any) => t.stage === 'detected')).toHaveLength(1);
    }
    expect(inc.status).toBe('open');
  });

  it('admin API: tokens, filters, pagination, acknowledge, resolve, reopen on recurrence, silences', async () => {
    const s = await startStack({ 'missing-price.yml': missingPriceRule('$NS') });
    const c = s.collectors[0];
    expect((await api(c, '/incidents', { token: '' })).status).toBe(401);
    expect((await api(c, '/incidents', { token: 'wrong-token-wrong-token' })).status).toBe(401);
    expect((await api(c, '/incidents?status=closed', { token: VIEWER })).body.error).toBe('status: "closed" is not one of open, acknowledged, resolved');

    s.log.append(['STORE_001', 'STORE_002', 'STORE_003'].flatMap((store) => [missingPrice(store), missingPrice(store), missingPrice(store)]));
    await waitFor('three incidents', async () => (await incidents(s.ns)).length === 3, 30_000);
    await es.indices.refresh({ index: 'stacklens-incidents' });

    const page1 = await api(c, '/incidents?rule=pos-missing-price&status=open&severity=critical&size=2', { token: VIEWER });
    expect(page1.body.incidents).toHaveLength(2);
    expect(page1.body.total).toBeGreaterThanOrEqual(3);
    const page2 = await api(c, `/incidents?rule=pos-missing-price&status=open&severity=critical&size=2&after=${page1.body.next}`, { token: VIEWER });
    const ids = [...page1.body.incidents, ...page2.body.incidents].map((i: any) => i.id);
    expect((await api(c, '/incidents?after=garbage', { token: VIEWER })).body).toEqual({ error: 'after: not a cursor returned by this API' });
    expect(new Set(ids).size).toBe(ids.length);

    const [store1] = await incidents(s.ns, { term: { group_key: 'pos.store_id=STORE_001' } });
    expect((await api(c, `/incidents/${store1.id}/ack`, { method: 'POST', token: VIEWER, body: '{}' })).status).toBe(403);
    const acked = await api(c, `/incidents/${store1.id}/ack`, { method: 'POST', body: JSON.stringify({ by: 'ana', note: 'looking' }) });
    expect(acked.body).toMatchObject({ status: 'acknowledged', acknowledged_by: 'ana' });
    expect((await api(c, `/incidents/${store1.id}/ack`, { method: 'POST', body: '{}' })).status).toBe(409);
    const resolved = await api(c, `/incidents/${store1.id}/resolve`, { method: 'POST', body: JSON.stringify({ by: 'ana' }) });
    expect(resolved.body).toMatchObject({ status: 'resolved', resolved_by: 'ana' });
    expect((await api(c, '/incidents/inc-does-not-exist', { token: VIEWER })).status).toBe(404);

    // Recurrence after resolve reopens it — inside realert (10m), so it does not alert again.
    s.log.append([missingPrice('STORE_001'), missingPrice('STORE_001'), missingPrice('STORE_001')]);
    const reopened = await waitFor('the reopened incident', async () => {
      const r = await api(c, `/incidents/${store1.id}`, { token: VIEWER });
      return r.body.status === 'open' ? r.body : undefined;
    }, 30_000);
    expect(reopened).toMatchObject({ reopen_count: 1, fire_count: 1 });
    expect(reopened.timeline.map((t: any) => t.stage)).toEqual(['detected', 'acknowledged', 'resolved', 'reopened']);
    expect(reopened.timeline[1]).toMatchObject({ by: 'ana', note: 'looking' });

    // A silence on one store (named for this test: silences are not per namespace): its incident is recorded but does not fire.
    const closed = `STORE_${s.ns}`;
    expect((await api(c, '/silences', { method: 'POST', body: JSON.stringify({ group_key: `pos.store_id=${closed}` }) })).body.error).toBe('reason: required (why is this silenced?)');
    expect((await api(c, '/silences', { method: 'POST', body: JSON.stringify({ group_key: `pos.store_id=${closed}`, reason: 'x', duration: 'soon' }) })).body.error).toMatch(/^duration: not a duration/);
    const silence = await api(c, '/silences', { method: 'POST', body: JSON.stringify({ rule: 'pos-missing-price', group_key: `pos.store_id=${closed}`, duration: '1h', reason: 'store closed for refit', by: 'ben' }) });
    expect(silence.status).toBe(201);
    expect((await api(c, '/silences', { token: VIEWER })).body.silences.map((x: any) => x.id)).toContain(silence.body.id);
    s.log.append([missingPrice(closed), missingPrice(closed), missingPrice(closed)]);
    const silenced = await waitFor('the silenced incident', async () => (await incidents(s.ns, { term: { group_key: `pos.store_id=${closed}` } }))[0], 30_000);
    expect(silenced).toMatchObject({ silenced_by: silence.body.id, fire_count: 0, status: 'open' });
  });

  it('rules hot-reload: a new file starts firing, a bad file is reported with file:line:key while the others keep running, auto-resolve after a quiet period', async () => {
    const s = await startStack({ 'missing-price.yml': missingPriceRule('$NS') });
    const c = s.collectors[0];
    writeFileSync(
      join(s.rules, 'payment.yml'),
      `name: pos-payment-failed\nseverity: high\ndataset: pos\nnamespace: ${s.ns}\nfilter:\n  error.type: PAYMENT_FAILED\ntype: any\ngroup_by: [pos.store_id]\nauto_resolve: 3s\n`,
    );
    await waitFor('the new rule loaded', async () => (await api(c, '/rules', { token: VIEWER })).body.rules.length === 2, 20_000);
    writeFileSync(join(s.rules, 'broken.yml'), `name: broken\nseverity: critical\ndataset: pos\ntype: frequency\nthreshold: many\nwindow: 1m\n`);
    const listed = await waitFor('the bad file reported', async () => {
      const r = await api(c, '/rules', { token: VIEWER });
      return r.body.errors.length ? r.body : undefined;
    }, 20_000);
    expect(listed.errors[0].message).toBe(`${join(s.rules, 'broken.yml')}:5: threshold: Invalid input: expected number, received string`);
    expect(listed.rules.map((r: any) => r.name).sort()).toEqual(['pos-missing-price', 'pos-payment-failed']);
    const reload = await api(c, '/rules/reload', { method: 'POST' });
    expect(reload.status).toBe(422);
    expect(reload.body.rules).toBe(2);

    s.log.append([posErrorLine('payment-failed', { store: 'STORE_005' }), missingPrice('STORE_005'), missingPrice('STORE_005'), missingPrice('STORE_005')]);
    await waitFor('both rules fired', async () => (await incidents(s.ns)).length === 2, 30_000);
    const resolved = await waitFor('the payment incident auto-resolved', async () => {
      const [i] = await incidents(s.ns, { term: { rule: 'pos-payment-failed' } });
      return i?.status === 'resolved' ? i : undefined;
    }, 30_000, 500);
    expect(resolved.resolved_by).toBe('stacklens');
    expect(resolved.timeline.map((t: any) => t.stage)).toEqual(['detected', 'resolved']);
    unlinkSync(join(s.rules, 'broken.yml'));
    await waitFor('the error cleared', async () => (await api(c, '/rules', { token: VIEWER })).body.errors.length === 0, 20_000);
  });

  it('flatline: a bot that stops writing opens an incident from the scheduled evaluation', async () => {
    const s = await startStack({
      'silent.yml': `name: pos-silent\nseverity: critical\ndataset: pos\nnamespace: $NS\ntype: flatline\nthreshold: 1\nwindow: 3s\nlookback: 1h\nrun_every: 1s\n`,
    });
    const runs = async () => (await api(s.collectors[0], '/rules', { token: VIEWER })).body.rules[0].scheduled_runs_here as number;
    const before = await runs();
    for (let i = 0; i < 8; i++) {
      s.log.append([posOrderLine()]);
      await sleep(500);
    }
    // Evaluated while the bot wrote (run_every 1 s), and found nothing missing.
    expect((await runs()) - before).toBeGreaterThanOrEqual(2);
    expect(await incidents(s.ns)).toEqual([]);
    const stopped = Date.now();
    const inc = await waitFor('the flatline incident', async () => (await incidents(s.ns))[0], 30_000, 250);
    expect(Date.now() - stopped).toBeGreaterThan(2500);
    expect(inc).toMatchObject({ rule: 'pos-silent', rule_type: 'flatline', message_template: 'fewer than 1 events in 3s', count: 0 });
  });
});
