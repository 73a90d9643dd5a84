// Both /metrics endpoints pass Debian's `promtool check metrics` (naming, units, _total,
// help texts) after real traffic and an incident — so Prometheus and the dashboards built on
// these series can rely on them. Needs promtool (Debian's prometheus package): skipped
// without it outside CI, failed without it in CI (test/programs.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { freePort, waitFor, startAgent, type AgentHandle, type CollectorHandle } from './helpers.js';
import { missingPrice, startStack } from './stack.js';
import { posOrderLine } from '@stacklens/demo';
import { missingProgram } from './programs.js';

const esUrl = inject('esUrl');
const running: (AgentHandle | CollectorHandle)[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
});

/** A directory of its own under `dir`, for a second agent's config and state. */
function ownDir(dir: string, name: string): string {
  mkdirSync(join(dir, name));
  return join(dir, name);
}

const noPromtool = missingProgram('promtool', 'the `promtool check metrics` tests of both /metrics endpoints');

function promtool(text: string): { status: number | null; output: string } {
  const res = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (res.error) throw new Error(`promtool could not be run: ${res.error.message}`);
  return { status: res.status, output: `${res.stdout}${res.stderr}`.trim() };
}

describe('metrics', () => {
  it('the collector and the agent expose metrics promtool finds nothing to report on', async (ctx) => {
    ctx.skip(noPromtool !== undefined, noPromtool);
    const rule = `name: pos-missing-price\nseverity: critical\ndataset: pos\nnamespace: $NS\nfilter:\n  error.type: MISSING_PRICE\ntype: any\ngroup_by: [pos.store_id]\nnotify: [jira]\n`;
    const s = await startStack(esUrl, running, { 'missing-price.yml': rule });
    // A second agent on the same log, with its metrics endpoint on. Its config file is its own:
    // the stack's agent, still starting, would read this one in its place.
    const port = await freePort();
    const agentYaml = `id: metrics-${s.ns}\nstate_dir: ./state\ncollector:\n  url: ${s.collectors[0].url}\n  token: agent-token-${s.ns}\nmetrics:\n  listen: 127.0.0.1:${port}\ninputs:\n  - paths: ["${join(s.dir, 'logs')}/*.log"]\n    format: pos\n    dataset: pos\n    namespace: ${s.ns}\n`;
    const agent = startAgent(ownDir(s.dir, 'metrics'), agentYaml);
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
    expect(collectorText).toMatch(/^stacklens_collector_events_received_total [1-9]/m);
    expect(collectorText).toMatch(/^stacklens_collector_bulk_duration_seconds_count [1-9]/m);
    expect(collectorText).toMatch(/^stacklens_collector_ingest_requests_in_flight 0$/m);
    // Series that start at 0, so alerts and dashboards see "none yet" rather than nothing.
    expect(collectorText).toMatch(/^stacklens_external_requests_total\{service="slack",result="ok"\} 0$/m);
    expect(collectorText).toMatch(/^stacklens_outbox_tasks_total\{action="chat_post",result="failed"\} 0$/m);
    expect(collectorText).toMatch(/^stacklens_outbox_tasks\{action="ticket",status="pending"\} \d+$/m);
  });

  it('logs are JSON lines with level, component and request/agent ids, at the configured level, without tokens', async () => {
    const rule = `name: quiet\nseverity: low\ndataset: pos\nnamespace: $NS\nfilter:\n  error.type: NOTHING\ntype: any\n`;
    const s = await startStack(esUrl, running, { 'quiet.yml': rule }, { env: { STACKLENS_LOG_LEVEL: 'debug' } });
    // A second agent, logging at info.
    const agent = startAgent(ownDir(s.dir, 'logs-agent'), `id: logs-${s.ns}\nstate_dir: ./state\ncollector:\n  url: ${s.collectors[0].url}\n  token: agent-token-${s.ns}\ninputs:\n  - paths: ["${join(s.dir, 'logs')}/*.log"]\n    format: pos\n    dataset: pos\n    namespace: ${s.ns}\n`, { STACKLENS_LOG_LEVEL: 'info' });
    running.push(agent);
    s.log.append([posOrderLine()]);
    const c = s.collectors[0];
    const lines = () => c.proc.output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    // The agent's batches carry an X-Request-Id made of its id; the collector logs it.
    const logged = await waitFor('a logged agent batch', async () => lines().find((l) => l.msg === 'request' && l.path === '/v1/events' && String(l.request_id).startsWith(`logs-${s.ns}-`)), 30_000);
    expect(logged).toMatchObject({ level: 'debug', component: 'collector', method: 'POST', status: 200 });
    const res = await fetch(`${c.url}/v1/events`, { method: 'POST', headers: { authorization: 'Bearer wrong-token', 'x-request-id': 'my-request-1' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toBe('my-request-1');
    expect((await fetch(`${c.url}/healthz`)).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor('the refused request logged', async () => lines().some((l) => l.request_id === 'my-request-1' && l.status === 401), 10_000);
    expect(c.proc.output).not.toContain(`agent-token-${s.ns}`);
    expect(c.proc.output).not.toContain('wrong-token');
    const agentLines = agent.proc.output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(agentLines.map((l) => l.msg)).toContain('agent starting');
    for (const l of agentLines) expect(l).toMatchObject({ level: 'info', component: 'agent', agent_id: `logs-${s.ns}` });
    expect(agent.proc.output).not.toContain(`agent-token-${s.ns}`);
  });
});
