// The rules shipped in rules/: each one fires on the simulator's failure output and stays
// quiet on normal traffic. Replayed offline (the engine of `stacklens rules test`): the
// same rule types and incident transitions as the collector, in simulated log time.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBuilder, type InputConfig } from '@stacklens/agent';
import { loadRuleFile, Replay, type Incident } from '@stacklens/detection';
import { chatbotTurn, posErrorLine, posOrderLine, posTrafficLine, rng, type Scenario } from '@stacklens/demo';
import { REPO } from './helpers.js';

const START = Date.parse('2026-03-02T09:00:00Z');
const minutes = (m: number) => m * 60_000;

function builder(format: 'pos' | 'chatbot'): EventBuilder {
  const input = { paths: ['sim.log'], format, dataset: format, namespace: 'default', max_line_bytes: 1 << 20, close_inactive: 0, redact: { card_numbers: false, bearer_tokens: false, api_keys: false, passwords: false, emails: false } } as InputConfig;
  return new EventBuilder('test', 'host', input);
}

async function replay(ruleFile: string, format: 'pos' | 'chatbot', lines: string[]): Promise<Incident[]> {
  const rule = loadRuleFile(join(REPO, 'rules', ruleFile));
  const r = new Replay([rule]);
  const b = builder(format);
  let offset = 0;
  for (const line of lines) {
    const e = b.build(line, 'sim.log', 'sim', offset);
    offset += line.length + 1;
    expect(e.error).toBeUndefined();
    await r.add(e.doc, `logs-${format}-default`);
  }
  return r.finish();
}

/** POS orders only, `perMinute` lines a minute for `mins` minutes from `from`. */
function orders(from: number, mins: number, perMinute = 60, seed = 1): string[] {
  const rand = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < mins * perMinute; i++) out.push(posOrderLine({ rand, time: new Date(from + (i * 60_000) / perMinute) }));
  return out;
}

function errors(scenario: Scenario, at: number, n: number, store: string, spacingMs = 5000): string[] {
  const rand = rng(7);
  return Array.from({ length: n }, (_, i) => posErrorLine(scenario, { store, rand, time: new Date(at + i * spacingMs) }));
}

const byTime = (lines: string[]) => lines.sort((a, b) => a.slice(1, 25).localeCompare(b.slice(1, 25)));

describe('shipped POS rules', () => {
  const cases: [string, Scenario, number][] = [
    ['pos-missing-price.yml', 'missing-price', 1],
    ['pos-product-not-found.yml', 'product-not-found', 3],
    ['pos-inventory-shortage.yml', 'inventory-shortage', 5],
    ['pos-payment-failed.yml', 'payment-failed', 3],
    ['pos-invalid-store-config.yml', 'invalid-store-config', 1],
  ];
  for (const [file, scenario, needed] of cases) {
    it(`${file}: fires once per store on ${needed} ${scenario} line(s), not on ${needed - 1}`, async () => {
      const lines = byTime([
        ...orders(START, 10),
        ...errors(scenario, START + minutes(2), needed, 'STORE_001'),
        ...(needed > 1 ? errors(scenario, START + minutes(2), needed - 1, 'STORE_002') : []),
      ]);
      const incidents = await replay(file, 'pos', lines);
      const store1 = incidents.filter((i) => i.group_key === 'pos.store_id=STORE_001');
      expect(incidents.map((i) => i.group_key)).toEqual(['pos.store_id=STORE_001']);
      expect(store1[0]).toMatchObject({ rule: file.replace('.yml', ''), status: 'open', count: needed });
      expect(store1[0].runbook.length).toBeGreaterThan(20);
    });

    it(`${file}: quiet on 30 minutes of normal orders`, async () => {
      expect(await replay(file, 'pos', orders(START, 30))).toEqual([]);
    });
  }

  it('pos-missing-price: product #999 and #1001 in one store are one incident; a thousand more update it', async () => {
    const rand = rng(3);
    const lines = [
      posErrorLine('missing-price', { store: 'STORE_001', product: 999, rand, time: new Date(START) }),
      posErrorLine('missing-price', { store: 'STORE_001', product: 1001, rand, time: new Date(START + 1000) }),
      ...Array.from({ length: 1000 }, (_, i) => posErrorLine('missing-price', { store: 'STORE_001', rand, time: new Date(START + 2000 + i * 100) })),
    ];
    const incidents = await replay('pos-missing-price.yml', 'pos', lines);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ message_template: 'Product #<*> has no price', count: 1002, fire_count: 1 });
  });

  it('pos-error-spike: fires when a store triples its errors, quiet on a steady error rate', async () => {
    const rand = rng(11);
    const steady: string[] = [];
    for (let i = 0; i < 30 * 300; i++) steady.push(posTrafficLine(rand, 0.05, new Date(START + i * 200)));
    expect(await replay('pos-error-spike.yml', 'pos', steady)).toEqual([]);

    const burst = byTime([...steady, ...errors('payment-failed', START + minutes(31), 60, 'STORE_003', 2000)]);
    const incidents = await replay('pos-error-spike.yml', 'pos', burst);
    expect(incidents.map((i) => i.group_key)).toEqual(['pos.store_id=STORE_003']);
    expect(incidents[0].message_template).toBe('event rate spiked up');
  });
});

/** Chat-bot turns every `everyMs` for `mins` minutes. */
function turns(from: number, mins: number, opts: { everyMs?: number; errorRate?: number; slow?: boolean; seed?: number } = {}): string[] {
  const rand = rng(opts.seed ?? 5);
  const every = opts.everyMs ?? 5000;
  const out: string[] = [];
  for (let t = from; t < from + minutes(mins); t += every) out.push(...chatbotTurn(rand, new Date(t), opts.errorRate ?? 0.03, opts.slow ?? false));
  return out;
}

const chatTime = (line: string) => JSON.parse(line).ts as string;
const chatByTime = (lines: string[]) => lines.sort((a, b) => chatTime(a).localeCompare(chatTime(b)));

describe('shipped chat-bot rules', () => {
  it('chatbot-silent: fires when the bot writes nothing for 5 minutes, quiet while it talks', async () => {
    expect(await replay('chatbot-silent.yml', 'chatbot', turns(START, 30, { everyMs: 20_000 }))).toEqual([]);
    const gap = [...turns(START, 10), ...turns(START + minutes(17), 2)];
    const incidents = await replay('chatbot-silent.yml', 'chatbot', gap);
    expect(incidents).toHaveLength(1);
    expect(incidents[0].message_template).toBe('fewer than 1 events in 5m');
  });

  it('chatbot-slow-replies: fires on p95 above 2 s, quiet on a healthy bot', async () => {
    expect(await replay('chatbot-slow-replies.yml', 'chatbot', turns(START, 60, { everyMs: 3000 }))).toEqual([]);
    const slow = chatByTime([...turns(START, 20, { everyMs: 3000 }), ...turns(START + minutes(20), 10, { everyMs: 3000, slow: true, seed: 9 })]);
    const incidents = await replay('chatbot-slow-replies.yml', 'chatbot', slow);
    expect(incidents).toHaveLength(1);
    expect(Number(incidents[0].value)).toBeGreaterThan(2000);
  });

  it('chatbot-error-spike: fires when errors triple, quiet on the usual error rate', async () => {
    expect(await replay('chatbot-error-spike.yml', 'chatbot', turns(START, 60, { everyMs: 3000 }))).toEqual([]);
    const spike = chatByTime([...turns(START, 20, { everyMs: 3000 }), ...turns(START + minutes(20), 10, { everyMs: 3000, errorRate: 0.5, seed: 13 })]);
    expect((await replay('chatbot-error-spike.yml', 'chatbot', spike)).map((i) => i.message_template)).toEqual(['event rate spiked up']);
  });

  it('chatbot-new-error: fires on an error template not seen before, quiet on known ones', async () => {
    const history = turns(START, 30, { everyMs: 2000, errorRate: 0.2 });
    const known = await replay('chatbot-new-error.yml', 'chatbot', [...history, ...turns(START + minutes(30), 30, { everyMs: 2000, errorRate: 0.2, seed: 21 })]);
    // The history's own first errors are new to an empty store; after it, nothing is.
    expect(known.filter((i) => Date.parse(i.first_seen) >= START + minutes(30))).toEqual([]);

    const novel = JSON.stringify({ ts: new Date(START + minutes(45)).toISOString(), level: 'error', event: 'error', error_type: 'TOOL_CRASH', error: 'tool "weather" crashed with exit code 137' });
    const incidents = await replay('chatbot-new-error.yml', 'chatbot', chatByTime([...history, novel]));
    const fresh = incidents.filter((i) => Date.parse(i.first_seen) >= START + minutes(30));
    expect(fresh).toHaveLength(1);
    expect(fresh[0].group_key).toMatch(/^stacklens\.template_id=[0-9a-f]{16}$/);
    expect(fresh[0].samples[0].stacklens).toMatchObject({ message_template: 'tool "weather" crashed with exit code <num>' });
  });
});
