// Both /metrics endpoints pass Debian's `promtool check metrics` (naming, units, _total,
// help texts) after real traffic and an incident — so Prometheus and the dashboards built on
// these series can rely on them.
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { freePort, waitFor, startAgent, type AgentHandle, type CollectorHandle } from './helpers.js';
import { missingPrice, startStack } from './stack.js';
import { posOrderLine } from '@stacklens/demo';

const esUrl = inject('esUrl');
const running: (AgentHandle | CollectorHandle)[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
});

function promtool(text: string): { status: number | null; output: string } {
  const res = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (res.error) throw new Error(`promtool is not installed (Debian: apt-get install prometheus): ${res.error.message}`);
  return { status: res.status, output: `${res.stdout}${res.stderr}`.trim() };
}

describe('metrics', () => {
  it('the collector and the agent expose metrics promtool finds nothing to report on', async () => {
    const rule = `name: pos-missing-price\nseverity: critical\ndataset: pos\nnamespace: $NS\nfilter:\n  error.type: MISSING_PRICE\ntype: any\ngroup_by: [pos.store_id]\nnotify: [jira]\n`;
    const s = await startStack(esUrl, running, { 'missing-price.yml': rule });
    // A second agent on the same log, with its metrics endpoint on.
    const port = await freePort();
    const agentYaml = `id: metrics-${s.ns}\nstate_dir: ./state-metrics\ncollector:\n  url: ${s.collectors[0].url}\n  token: agent-token-${s.ns}\nmetrics:\n  listen: 127.0.0.1:${port}\ninputs:\n  - paths: ["./logs/*.log"]\n    format: pos\n    dataset: pos\n    namespace: ${s.ns}\n`;
    const agent = startAgent(s.dir, agentYaml);
    running.push(agent);
    s.log.append([posOrderLine(), missingPrice(`STORE_${s.ns}`), 'not a POS line']);

    const collectorUrl = `${s.collectors[0].url}/metrics`;
    const collectorText = await waitFor('an incident in the collector metrics', async () => {
      const text = await (await fetch(collectorUrl)).text();
      return /^stacklens_incidents_opened_total\{severity="critical"\} [1-9]/m.test(text) && /^stacklens_outbox_tasks\{/m.test(text) ? text : undefined;
    }, 30_000);
    const agentText = await waitFor('the agent metrics', async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /^stacklens_agent_events_acked_total [1-9]/m.test(text) ? text : undefined;
    }, 30_000);

    for (const [name, text] of [['collector', collectorText], ['agent', agentText]]) {
      const res = promtool(text);
      expect({ name, ...res }).toEqual({ name, status: 0, output: '' });
    }
    expect(collectorText).toMatch(/^stacklens_collector_events_dead_lettered_total [1-9]/m);
    expect(collectorText).toMatch(/^process_cpu_seconds_total /m);
  });
});
