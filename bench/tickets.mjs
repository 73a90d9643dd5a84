// Line → ticket and line → Slack alert latency (npm run bench; npm run bench -- --only
// tickets): a POS line with a new MISSING_PRICE store appended to a file → the Jira ticket
// created, through agent, collector, triage (an OpenAI-compatible server answering after
// 1 s) and Jira (a local server speaking REST v3), and → the alert posted in Slack (a local
// server speaking the Web API), with 200 POS lines/s of background. p50/p99 over N tickets.
// Goal from the brief: p99 < 10 s; aim < 3 s.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { posErrorLine, rng } from '@stacklens/demo';
import { REPO_ROOT } from '@stacklens/elasticsearch';
import { FakeJira, FakeOpenAi, FakeSlack } from '@stacklens/fakes';

import { backgroundWriter, percentile, sleep, waitReady } from './lib.mjs';

export async function ticketLatency({ esUrl, work, progress, run, tickets = 60, llmDelayMs = 1000, backgroundRate = 200 }) {
  const jiraToken = `bench-jira-${run}`;
  const llmKey = `bench-llm-${run}`;
  const jira = new FakeJira('bench@example.com', jiraToken);
  const llm = new FakeOpenAi(llmKey);
  llm.delayMs = llmDelayMs;
  const slackToken = `bench-slack-${run}`;
  const slack = new FakeSlack(slackToken);
  await jira.start();
  await llm.start();
  await slack.start();
  const ns = `benchticket${run}`;
  const dir = join(work, 'tickets');
  mkdirSync(join(dir, 'rules'), { recursive: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(
    join(dir, 'rules', 'missing-price.yml'),
    `name: bench-missing-price\nseverity: critical\ndataset: pos\nnamespace: ${ns}\nfilter:\n  error.type: MISSING_PRICE\ntype: any\ngroup_by: [pos.store_id]\nrunbook: Set the price.\nlabels: { error_type: MISSING_PRICE }\nnotify: [jira, slack]\n`,
  );
  const port = 19300 + Math.floor(Math.random() * 500);
  writeFileSync(
    join(dir, 'collector.yaml'),
    `listen: 127.0.0.1:${port}\nelasticsearch:\n  url: ${esUrl}\nagent_tokens: ["bench-agent-token"]\nrules_dir: ./rules\nintegrations:\n  jira:\n    url: ${jira.url}\n    email: bench@example.com\n    api_token: \${JIRA_API_TOKEN}\n    project: OPS\n  openai:\n    base_url: ${llm.url}\n    api_key: \${OPENAI_API_KEY}\n    model: bench-model\n    timeout: 10s\n  slack:\n    bot_token: \${SLACK_BOT_TOKEN}\n    api_url: ${slack.url}/api/\n    channel: "#oncall"\n`,
  );
  writeFileSync(join(dir, 'agent.yaml'), `id: bench-tickets\nstate_dir: ./state\ncollector:\n  url: http://127.0.0.1:${port}\n  token: bench-agent-token\ninputs:\n  - paths: ["./logs/*.log"]\n    format: pos\n    dataset: pos\n    namespace: ${ns}\n`);
  const env = { ...process.env, STACKLENS_LOG_LEVEL: 'warn', JIRA_API_TOKEN: jiraToken, OPENAI_API_KEY: llmKey, SLACK_BOT_TOKEN: slackToken };
  const collector = spawn(process.execPath, [join(REPO_ROOT, 'collector/dist/cli.js'), '--config', join(dir, 'collector.yaml')], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  await waitReady(port);
  const agent = spawn(process.execPath, [join(REPO_ROOT, 'agent/dist/cli.js'), '--config', join(dir, 'agent.yaml')], { env, stdio: ['ignore', 'inherit', 'inherit'] });

  const rand = rng(9);
  // Orders only: the probes are the only MISSING_PRICE lines.
  const background = backgroundWriter(join(dir, 'logs', 'background.log'), backgroundRate, rand, 0);
  await sleep(3000);

  const appended = new Map();
  for (let i = 0; i < tickets; i++) {
    const store = `BENCH_${run}_${i}`;
    appended.set(store, performance.now());
    appendFileSync(join(dir, 'logs', 'probes.log'), `${posErrorLine('missing-price', { store, rand })}\n`);
    progress(`line → ticket: ${jira.issues.length} / ${tickets} tickets (LLM answers after ${llmDelayMs} ms)`);
    await sleep(500);
  }
  const deadline = Date.now() + 60_000;
  while (jira.issues.length < tickets && Date.now() < deadline) {
    progress(`line → ticket: ${jira.issues.length} / ${tickets} tickets (LLM answers after ${llmDelayMs} ms)`);
    await sleep(200);
  }
  background.stop();
  const latencies = [];
  for (const issue of jira.issues) {
    const store = /\((BENCH_[^)]+)\)$/.exec(issue.fields.summary)?.[1];
    if (store && appended.has(store)) latencies.push(issue.createdAt - appended.get(store));
  }
  const alertLatencies = [];
  const alerts = new Map();
  for (const m of slack.posts()) {
    const store = /\((BENCH_[^)]+)\)/.exec(m.text)?.[1];
    if (!store || !appended.has(store)) continue;
    alerts.set(store, (alerts.get(store) ?? 0) + 1);
    if (alerts.get(store) === 1) alertLatencies.push(m.postedAt - appended.get(store));
  }
  for (const c of [agent, collector]) c.kill('SIGTERM');
  await Promise.all([agent, collector].map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r)))));
  await jira.stop();
  await llm.stop();
  await slack.stop();
  const alertSorted = alertLatencies.sort((a, b) => a - b);
  const alert = { posted: alertSorted.length, doubled: [...alerts.values()].filter((n) => n > 1).length, p50: percentile(alertSorted, 50), p99: percentile(alertSorted, 99), max: alertSorted[alertSorted.length - 1] };
  const sorted = latencies.sort((a, b) => a - b);
  const perStore = new Map();
  for (const issue of jira.issues) perStore.set(issue.fields.summary, (perStore.get(issue.fields.summary) ?? 0) + 1);
  return { tickets, created: sorted.length, doubled: [...perStore.values()].filter((n) => n > 1).length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1], llmDelayMs, backgroundRate, alert };
}

export function ticketReport(r) {
  return [
    '',
    `Line → Jira ticket — ${r.created}/${r.tickets} tickets (${r.doubled} doubled), LLM answering after ${r.llmDelayMs} ms, ${r.backgroundRate} POS lines/s of background`,
    '',
    '| p50 | p99 | max | goal |',
    '|---:|---:|---:|---|',
    `| ${r.p50.toFixed(0)} ms | ${r.p99.toFixed(0)} ms | ${r.max.toFixed(0)} ms | p99 < 10 s: ${r.p99 < 10_000 ? 'met' : 'NOT met'}; aim < 3 s: ${r.p99 < 3000 ? 'met' : 'not met'} |`,
    '',
    `Line → Slack alert (first post; the analysis and ticket arrive by chat.update) — ${r.alert.posted}/${r.tickets} posted (${r.alert.doubled} doubled)`,
    '',
    '| p50 | p99 | max |',
    '|---:|---:|---:|',
    `| ${r.alert.p50.toFixed(0)} ms | ${r.alert.p99.toFixed(0)} ms | ${r.alert.max.toFixed(0)} ms |`,
  ].join('\n');
}
