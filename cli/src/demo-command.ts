// stacklens demo: its own Elasticsearch, a collector, an agent and both simulators, with a
// running count of what was indexed. The configs it writes are ordinary agent/collector
// configs: copy them to start your own.
//
// It is honest about what it runs: it starts an Elasticsearch of its own (on a free port when
// 9200 holds someone else's) unless $STACKLENS_ES_URL names one — and then says loudly that the
// data goes there; every count it prints is its own agent's and its own rules'; when a part
// dies it says which and why, stops the rest and exits non-zero; the closing lines say what
// still runs and how to stop it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createWriteStream, mkdirSync, writeFileSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { startElasticsearch, elasticsearchStatus, REPO_ROOT, DEFAULT_ES_PORT } from '@stacklens/elasticsearch';
import { chatbotTurn, posTrafficLine, rng } from '@stacklens/demo';

export const DEMO_HELP = `Usage: stacklens demo [--port 8080] [--duration <seconds>] [--rate <POS lines/s>]

Starts the whole pipeline on this machine and shows it working:
  an Elasticsearch 8.14 of its own (127.0.0.1:9200, or a free port when another Elasticsearch
  holds 9200; $STACKLENS_ES_URL to use an existing one instead), a collector on --port, an
  agent, a POS simulator (orders plus the five failure scenarios) and a chat-bot simulator.
Everything lives under .stacklens/demo/. Ctrl-C stops the demo; its Elasticsearch keeps
running (the closing lines say how to stop it). Exits non-zero when a part dies.
Example:
  npx stacklens demo --duration 120 --rate 50`;

const DEMO_AGENT_ID = 'demo-agent';
const STREAMS = ['logs-pos-default', 'logs-chatbot-default', 'logs-stacklens.deadletter-default'];

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
const warn = (s: string) => (color ? `\x1b[1;33m${s}\x1b[0m` : s);

async function post(url: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(3000) });
  return res.ok ? res.json() : undefined;
}

/** Documents of this demo's agent (the Elasticsearch may hold other data). */
async function countDocs(esUrl: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const stream of STREAMS) {
    try {
      out[stream] = (await post(`${esUrl}/${stream}/_count`, { query: { term: { 'agent.id': DEMO_AGENT_ID } } }))?.count ?? 0;
    } catch {
      out[stream] = 0;
    }
  }
  return out;
}

/** Open incidents of this demo's rules detected since it started (not another run's, nor another system's). */
async function openIncidents(esUrl: string, rules: string[], since: string): Promise<number> {
  try {
    return (await post(`${esUrl}/stacklens-incidents/_count`, { query: { bool: { filter: [{ term: { status: 'open' } }, { terms: { rule: rules } }, { range: { detected_at: { gte: since } } }] } } }))?.count ?? 0;
  } catch {
    return 0;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** The first port from `from` whose HTTP and transport (+100) ports are both free. */
async function freeEsPort(from: number): Promise<number> {
  for (let p = from; p < from + 99; p++) if ((await portFree(p)) && (await portFree(p + 100))) return p;
  throw new Error(`no free port for Elasticsearch between ${from} and ${from + 98}`);
}

const lastLines = (file: string, n = 8) => {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).map((l) => `    ${l}`).join('\n');
  } catch {
    return '    (no log)';
  }
};

export async function demoCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { port: { type: 'string' }, duration: { type: 'string' }, rate: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    process.stderr.write(`stacklens demo: ${(err as Error).message}\n\n${DEMO_HELP}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${DEMO_HELP}\n`);
    return 0;
  }
  const port = Number(values.port ?? 8080);
  const rate = Number(values.rate ?? 20);
  const durationS = values.duration === undefined ? undefined : Number(values.duration);
  if (!Number.isInteger(port) || port < 1 || port > 65535 || !(rate > 0) || (durationS !== undefined && !(durationS > 0))) {
    process.stderr.write(`stacklens demo: --port must be a port number, --rate and --duration positive numbers\n`);
    return 2;
  }
  // The collector's port first: finding it taken after starting everything else helps nobody.
  if (!(await portFree(port))) {
    process.stderr.write(`stacklens demo: port ${port} is already in use on 127.0.0.1 (another collector or demo?); choose another with --port\n`);
    return 1;
  }

  const home = join(REPO_ROOT, '.stacklens', 'demo');
  const logs = join(home, 'logs');
  mkdirSync(logs, { recursive: true });

  // Elasticsearch: the one named by STACKLENS_ES_URL, else our own.
  let esUrl: string;
  let esStop: string | undefined;
  const shared = process.env.STACKLENS_ES_URL;
  if (shared) {
    esUrl = shared.replace(/\/+$/, '');
    process.stderr.write(warn(`Using the Elasticsearch at ${esUrl} ($STACKLENS_ES_URL): the demo's data, incidents and outbox go there, beside whatever it holds.\n`));
  } else {
    let esPort = DEFAULT_ES_PORT;
    const existing = await elasticsearchStatus({ port: esPort });
    if (existing.running && !existing.owned) {
      esPort = await freeEsPort(DEFAULT_ES_PORT + 1);
      process.stderr.write(warn(`Port ${DEFAULT_ES_PORT} is held by an Elasticsearch stacklens did not start: the demo leaves it alone and starts its own on ${esPort}.\n`));
    }
    const es = await startElasticsearch({ port: esPort });
    esUrl = es.url;
    esStop = `npx stacklens es stop${esPort === DEFAULT_ES_PORT ? '' : ` --port ${esPort}`}`;
  }

  const collectorYaml = join(home, 'collector.yaml');
  const agentYaml = join(home, 'agent.yaml');
  const rulesDir = join(REPO_ROOT, 'rules');
  writeFileSync(
    collectorYaml,
    `# Written by stacklens demo\nlisten: 127.0.0.1:${port}\nelasticsearch:\n  url: ${esUrl}\nagent_tokens: ["\${STACKLENS_AGENT_TOKEN}"]\nrules_dir: ${rulesDir}\napi:\n  admin_tokens: ["\${STACKLENS_ADMIN_TOKEN}"]\n`,
  );
  writeFileSync(
    agentYaml,
    `# Written by stacklens demo\nid: ${DEMO_AGENT_ID}\nstate_dir: ./agent-state\ncollector:\n  url: http://127.0.0.1:${port}\n  token: \${STACKLENS_AGENT_TOKEN}\ninputs:\n  - paths: ["./logs/pos*.log"]\n    format: pos\n    dataset: pos\n    service: pos\n  - paths: ["./logs/chatbot*.log"]\n    format: chatbot\n    dataset: chatbot\n    service: chatbot\n`,
  );
  const ruleNames = readdirSync(rulesDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => /^name:\s*(\S+)/m.exec(readFileSync(join(rulesDir, f), 'utf8'))?.[1])
    .filter((n): n is string => Boolean(n));
  // The admin token goes to a file only this user can read, never to the terminal or logs.
  const adminToken = randomBytes(24).toString('base64url');
  const adminTokenFile = join(home, 'admin-token');
  writeFileSync(adminTokenFile, `${adminToken}\n`, { mode: 0o600 });
  const env = { ...process.env, STACKLENS_AGENT_TOKEN: randomBytes(24).toString('base64url'), STACKLENS_ADMIN_TOKEN: adminToken };

  const children: { name: string; child: ChildProcess; log: string }[] = [];
  let stopping = false;
  let died: ((why: string) => void) | undefined;
  const run = (name: string, script: string, config: string) => {
    const log = join(home, `${name}.log`);
    const out = openSync(log, 'a');
    const child = spawn(process.execPath, [join(REPO_ROOT, script), '--config', config], { env, stdio: ['ignore', out, out] });
    child.on('exit', (code, signal) => {
      if (!stopping) died?.(`${name} exited (${signal ?? `code ${code}`}); the last lines of ${log}:\n${lastLines(log)}`);
    });
    children.push({ name, child, log });
  };
  const stopChildren = async () => {
    stopping = true;
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.all(children.map(({ child }) => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)))));
  };
  const deathNotice = new Promise<string>((resolve) => (died = resolve));
  const started = new Date();

  // The collector, ready, before the agent: an agent started first only logs "unreachable".
  run('collector', 'collector/dist/cli.js', collectorYaml);
  const collectorUrl = `http://127.0.0.1:${port}`;
  const ready = (async () => {
    for (let i = 0; i < 240; i++) {
      try {
        if ((await fetch(`${collectorUrl}/readyz`, { signal: AbortSignal.timeout(2000) })).ok) return true;
      } catch {
        // not yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    return false;
  })();
  const first = await Promise.race([ready.then((ok) => (ok ? undefined : `the collector did not become ready within a minute; see ${join(home, 'collector.log')}`)), deathNotice]);
  if (first) {
    process.stderr.write(`stacklens demo: ${first}\n`);
    await stopChildren();
    return 1;
  }
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

  const rel = (p: string) => relative(process.cwd(), p) || '.';
  process.stdout.write(
    [
      '',
      bold('StackLens demo is running:'),
      `  Elasticsearch   ${esUrl}${shared ? '   (yours, from $STACKLENS_ES_URL)' : ''}`,
      `  collector       ${collectorUrl}   (config ${rel(collectorYaml)}, log ${rel(join(home, 'collector.log'))})`,
      `  agent           config ${rel(agentYaml)}, log ${rel(join(home, 'agent.log'))}`,
      `  POS simulator   ${rel(join(logs, 'pos.log'))} (${rate} lines/s, 5% errors)`,
      `  chat-bot sim.   ${rel(join(logs, 'chatbot.log'))}`,
      `  rules           ${rel(rulesDir)} (edit a file: the collector reloads it)`,
      '',
      bold('Try, in another terminal:'),
      `  export STACKLENS_URL=${collectorUrl} STACKLENS_TOKEN=$(cat ${adminTokenFile})`,
      '  npx stacklens incidents list              # open incidents, one line each',
      '  npx stacklens tail --source pos --level critical,error --incidents',
      `  npx stacklens search '"no price"' --from now-15m   # the MISSING_PRICE lines' message`,
      `  curl -s ${collectorUrl}/metrics | grep stacklens_collector_events   # Prometheus metrics`,
      '  Grafana and Kibana: docker compose up (see the README, "Observability"); Grafana on :3000, Kibana on :5601',
      '',
      'Ctrl-C stops the demo.',
      '',
    ].join('\n'),
  );
  const t0 = Date.now();
  const report = setInterval(async () => {
    const c = await countDocs(esUrl);
    const open = await openIncidents(esUrl, ruleNames, started.toISOString());
    if (!stopping) process.stdout.write(`[${Math.round((Date.now() - t0) / 1000)}s] indexed: pos ${c['logs-pos-default']}, chatbot ${c['logs-chatbot-default']}, dead letters ${c['logs-stacklens.deadletter-default']}; open incidents ${open}\n`);
  }, 5000);

  const ended = await new Promise<string | undefined>((resolve) => {
    process.once('SIGINT', () => resolve(undefined));
    process.once('SIGTERM', () => resolve(undefined));
    if (durationS !== undefined) setTimeout(() => resolve(undefined), durationS * 1000);
    void deathNotice.then(resolve);
  });
  clearInterval(simulators);
  clearInterval(report);
  pos.end();
  chat.end();
  await stopChildren();
  const c = await countDocs(esUrl);
  const lines = [
    ended ? `stacklens demo: ${ended}` : '',
    `demo stopped. indexed: pos ${c['logs-pos-default']}, chatbot ${c['logs-chatbot-default']}, dead letters ${c['logs-stacklens.deadletter-default']}. The collector, the agent and the simulators have stopped.`,
    esStop ? `Still running: Elasticsearch on ${esUrl} (its data in .stacklens/es/). Stop it with: ${esStop}` : `Elasticsearch at ${esUrl} is yours ($STACKLENS_ES_URL): the demo left it running, with its data (data streams logs-*-default, stacklens-*).`,
  ].filter(Boolean);
  (ended ? process.stderr : process.stdout).write(`${lines.join('\n')}\n`);
  return ended ? 1 : 0;
}
