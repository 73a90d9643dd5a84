// stacklens demo: embedded Elasticsearch, a collector, an agent and both simulators, with
// a running count of what was indexed. The configs it writes are ordinary agent/collector
// configs: copy them to start your own.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync, openSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startElasticsearch, REPO_ROOT } from '@stacklens/elasticsearch';
import { chatbotTurn, posTrafficLine, rng } from '@stacklens/demo';

export const DEMO_HELP = `Usage: stacklens demo [--port 8080] [--duration <seconds>] [--rate <POS lines/s>]

Starts the whole pipeline on this machine and shows it working:
  Elasticsearch 8.14 on 127.0.0.1:9200 (or $STACKLENS_ES_URL), a collector, an agent,
  a POS simulator (orders plus the five failure scenarios) and a chat-bot simulator.
Everything lives under .stacklens/demo/. Ctrl-C stops the demo (Elasticsearch keeps
running: stacklens es stop).`;

const DEMO_AGENT_ID = 'demo-agent';
const STREAMS = ['logs-pos-default', 'logs-chatbot-default', 'logs-stacklens.deadletter-default'];

async function countDocs(esUrl: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const stream of STREAMS) {
    try {
      // Only this demo's agent: the same Elasticsearch may hold other data.
      const res = await fetch(`${esUrl}/${stream}/_count`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: { term: { 'agent.id': DEMO_AGENT_ID } } }),
        signal: AbortSignal.timeout(3000),
      });
      out[stream] = res.ok ? ((await res.json()) as { count: number }).count : 0;
    } catch {
      out[stream] = 0;
    }
  }
  return out;
}

async function openIncidents(esUrl: string): Promise<number> {
  try {
    const res = await fetch(`${esUrl}/stacklens-incidents/_count`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: { term: { status: 'open' } } }),
      signal: AbortSignal.timeout(3000),
    });
    return res.ok ? ((await res.json()) as { count: number }).count : 0;
  } catch {
    return 0;
  }
}

export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' }, duration: { type: 'string' }, rate: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${DEMO_HELP}\n`);
    return 0;
  }
  const port = Number(values.port ?? 8080);
  const rate = Number(values.rate ?? 20);
  const durationS = values.duration === undefined ? undefined : Number(values.duration);
  if (!Number.isInteger(port) || !(rate > 0) || (durationS !== undefined && !(durationS > 0))) {
    process.stderr.write(`stacklens demo: --port, --rate and --duration must be positive numbers\n`);
    return 2;
  }

  const home = join(REPO_ROOT, '.stacklens', 'demo');
  const logs = join(home, 'logs');
  mkdirSync(logs, { recursive: true });
  const esUrl = process.env.STACKLENS_ES_URL ?? (await startElasticsearch({ port: 9200 })).url;

  const collectorYaml = join(home, 'collector.yaml');
  const agentYaml = join(home, 'agent.yaml');
  writeFileSync(
    collectorYaml,
    `# Written by stacklens demo\nlisten: 127.0.0.1:${port}\nelasticsearch:\n  url: ${esUrl}\nagent_tokens: ["\${STACKLENS_AGENT_TOKEN}"]\nrules_dir: ${join(REPO_ROOT, 'rules')}\napi:\n  admin_tokens: ["\${STACKLENS_ADMIN_TOKEN}"]\n`,
  );
  writeFileSync(
    agentYaml,
    `# Written by stacklens demo\nid: ${DEMO_AGENT_ID}\nstate_dir: ./agent-state\ncollector:\n  url: http://127.0.0.1:${port}\n  token: \${STACKLENS_AGENT_TOKEN}\ninputs:\n  - paths: ["./logs/pos*.log"]\n    format: pos\n    dataset: pos\n    service: pos\n  - paths: ["./logs/chatbot*.log"]\n    format: chatbot\n    dataset: chatbot\n    service: chatbot\n`,
  );
  // The admin token goes to a file only this user can read, never to the terminal or logs.
  const adminToken = randomBytes(24).toString('base64url');
  const adminTokenFile = join(home, 'admin-token');
  writeFileSync(adminTokenFile, `${adminToken}\n`, { mode: 0o600 });
  const env = { ...process.env, STACKLENS_AGENT_TOKEN: randomBytes(24).toString('base64url'), STACKLENS_ADMIN_TOKEN: adminToken };
  const children: ChildProcess[] = [];
  const run = (name: string, script: string, config: string) => {
    const out = openSync(join(home, `${name}.log`), 'a');
    const child = spawn(process.execPath, [join(REPO_ROOT, script), '--config', config], { env, stdio: ['ignore', out, out] });
    child.on('exit', (code, signal) => {
      if (!stopping) process.stderr.write(`${name} exited (${signal ?? code}); see ${join(home, `${name}.log`)}\n`);
    });
    children.push(child);
  };
  let stopping = false;
  run('collector', 'collector/dist/cli.js', collectorYaml);
  run('agent', 'agent/dist/cli.js', agentYaml);

  const rand = rng();
  const pos = createWriteStream(join(logs, 'pos.log'), { flags: 'a' });
  const chat = createWriteStream(join(logs, 'chatbot.log'), { flags: 'a' });
  const tick = 100;
  let carry = 0;
  const simulators = setInterval(() => {
    carry += (rate * tick) / 1000;
    for (; carry >= 1; carry--) pos.write(`${posTrafficLine(rand, 0.05)}\n`);
    if (rand() < 0.25) for (const l of chatbotTurn(rand)) chat.write(`${l}\n`);
  }, tick);

  process.stdout.write(
    [
      '',
      'StackLens demo is running:',
      `  Elasticsearch   ${esUrl}`,
      `  collector       http://127.0.0.1:${port}   (config ${collectorYaml}, log ${join(home, 'collector.log')})`,
      `  agent           config ${agentYaml}, log ${join(home, 'agent.log')}`,
      `  POS simulator   ${join(logs, 'pos.log')} (${rate} lines/s, 5% errors)`,
      `  chat-bot sim.   ${join(logs, 'chatbot.log')}`,
      `  try             curl '${esUrl}/logs-pos-default/_search?q=error.type:MISSING_PRICE&size=1&pretty'`,
      `  incidents       curl -H "Authorization: Bearer $(cat ${adminTokenFile})" 'http://127.0.0.1:${port}/api/incidents?status=open'`,
      `  rules           ${join(REPO_ROOT, 'rules')} (edit a file: the collector reloads it)`,
      '  Ctrl-C stops the demo.',
      '',
    ].join('\n'),
  );
  const started = Date.now();
  const report = setInterval(async () => {
    const c = await countDocs(esUrl);
    const open = await openIncidents(esUrl);
    process.stdout.write(`[${Math.round((Date.now() - started) / 1000)}s] indexed: pos ${c['logs-pos-default']}, chatbot ${c['logs-chatbot-default']}, dead letters ${c['logs-stacklens.deadletter-default']}; open incidents ${open}\n`);
  }, 5000);

  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    if (durationS !== undefined) setTimeout(resolve, durationS * 1000);
  });
  stopping = true;
  clearInterval(simulators);
  clearInterval(report);
  pos.end();
  chat.end();
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  const c = await countDocs(esUrl);
  process.stdout.write(`demo stopped. indexed: pos ${c['logs-pos-default']}, chatbot ${c['logs-chatbot-default']}, dead letters ${c['logs-stacklens.deadletter-default']}. Elasticsearch keeps running (stacklens es stop).\n`);
  return 0;
}
