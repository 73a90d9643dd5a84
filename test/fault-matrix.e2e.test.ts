// The fault matrix (#13): every external service × every way it fails × when it fails, one
// test per cell, through the real collector and agent CLIs against the protocol fakes in
// test/fakes (fake.faults.inject). Each cell has its own store (its own incident) so cells
// share one collector, one agent and one set of fakes without touching each other: faults
// match on what the request carries for that store (Jira summary / fingerprint label, the
// OpenAI prompt's group, the Xero item code, the Slack / Mattermost incident metadata).
//
// What each cell asks, once things settle:
//   • exactly one Jira ticket and one chat thread per incident (Slack and Mattermost: one
//     top-level post that shows the ticket, everything after it edits it or replies in its
//     thread) — or, for 401, the action `failed` with a reason that names authentication;
//   • no outbox task left pending, nor running past its lease;
//   • a request that is never answered (timeout, lost response) given up by the client in
//     time: its configured timeout (each integration's `timeout`), well before the task's lease runs out;
//   • the timeline (GET /api/incidents/:id) true: each step that happened, with what really
//     happened (the ticket key that exists, why triage fell back, why Xero context is missing).
// What "401" means differs by design: Jira, Slack and Mattermost fail the action for good;
// the LLM's 401 is a runbook triage saying so (triage_failed), the ticket and the alert go on;
// Xero's is a note in the triage ("Xero answered 401; triage went on without it").
//
// Moments: "first attempt" — the first request of the cell to that service fails; "retry" —
// it fails with a plain 503 and the retry gets the fault (Xero's failure is noted, not
// retried, so there the LLM's first answer is a 503 too, for the triage to be retried);
// "burst" — the fault (3 requests) is injected while 100 POS errors over 10 more stores are
// written, and those 10 incidents are held to the same standard.
//
// Cells run concurrently (the runner below, not vitest's maxConcurrency of 5), in phases: see
// phases(). Set FAULT_MATRIX_REPORT=<file> to get every cell's observations as JSON.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { incidentFingerprint, incidentId } from '@stacklens/detection';
import { esClient, waitFor, type AgentHandle, type CollectorHandle } from './helpers.js';
import { api, missingPrice, missingPriceAnyRule, startStack, templateIdOf, testSecret, type Stack } from './stack.js';
import { FakeJira } from './fakes/jira-server.js';
import { FakeOpenAi } from './fakes/openai-server.js';
import { FakeXero } from './fakes/xero-server.js';
import { FakeSlack } from './fakes/slack-server.js';
import { FakeMattermost } from './fakes/mattermost-server.js';
import type { Fault, FaultKind, FaultRequest, Faults } from './fakes/faults.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const running: (AgentHandle | CollectorHandle)[] = [];

// ---- the matrix, as data ------------------------------------------------------------------
const SERVICES = ['openai', 'jira', 'xero', 'slack', 'mattermost'] as const;
type Service = (typeof SERVICES)[number];
const SERVICE_NAMES: Record<Service, string> = { openai: 'OpenAI', jira: 'Jira', xero: 'Xero', slack: 'Slack', mattermost: 'Mattermost' };
const FAILURES = ['503', '429', 'timeout', 'refused', 'malformed', '401'] as const satisfies readonly FaultKind[];
type Failure = (typeof FAILURES)[number];
const FAILURE_NAMES: Record<Failure, string> = { '503': '503 once', '429': '429 with Retry-After', timeout: 'timeout', refused: 'connection refused', malformed: 'malformed 200', '401': '401' };
const MOMENTS = ['first attempt', 'retry', 'during a 100-error burst'] as const;
type Moment = (typeof MOMENTS)[number];

const BURST_STORES = 10;
const BURST_LINES_PER_STORE = 10;
const BURST_FAULTS = 3;
/** The outbox lease (collector/src/outbox/outbox.ts, not configurable): a request must end before it. */
const LEASE_MS = 60_000;
const PHASE_CONCURRENCY = 16;
const SETTLE_MS = 240_000; // a cell of the big phase waits for its turn in the collector's queues too
const TIMEOUT_SETTLE_MS = LEASE_MS + 20_000;
/**
 * How long a client may wait for an answer that never comes: the configured timeout (jira, openai,
 * xero, slack and mattermost `timeout`: 3 s here) with room to spare — and always well inside the
 * outbox lease: a request must not outlive the lease of the task that made it.
 */
const CLIENT_GIVES_UP_MS: Record<Service, number> = { openai: 13_000, xero: 13_000, jira: 13_000, slack: 13_000, mattermost: 13_000 };

const AUTH = /\b401\b|auth|credential|unauthori[sz]ed/i;
/** Why triage fell back, by what the LLM did. */
const LLM_NOTE: Record<FaultKind, RegExp> = {
  '503': /^LLM 503\b/,
  '429': /^LLM rate-limited \(429\)/,
  timeout: /^LLM timed out/,
  refused: /^LLM unreachable\b/,
  malformed: /^LLM .*(malformed|not JSON|invalid JSON|JSON)/i,
  '401': /^LLM refused our credentials \(401\)/,
  'lost-response': /^LLM timed out/,
};
/** Why the triage has no Xero context, by what Xero did. */
const XERO_NOTE: Record<FaultKind, RegExp> = {
  '503': /^Xero answered 503; triage went on without it$/,
  '429': /^Xero answered 429; triage went on without it$/,
  timeout: /^Xero (unreachable|timed out)\b.*; triage went on without it$/i,
  refused: /^Xero unreachable\b.*; triage went on without it$/,
  malformed: /^Xero .*(malformed|invalid|JSON|unexpected|unreadable).*; triage went on without it$/i,
  '401': /^Xero answered 401; triage went on without it$/,
  'lost-response': /^Xero .*(timed? ?out|timeout).*; triage went on without it$/i,
};

// ---- the fakes and the stack ----------------------------------------------------------------
const JIRA_TOKEN = testSecret('jira');
const OPENAI_KEY = testSecret('sk-test');
const XERO_SECRET = testSecret('xero');
const SLACK_TOKEN = testSecret('xoxb');
const MM_TOKEN = testSecret('mmtoken');
const jira = new FakeJira('oncall@example.com', JIRA_TOKEN);
const llm = new FakeOpenAi(OPENAI_KEY);
const xero = new FakeXero('stacklens-client', XERO_SECRET, 'tenant-7');
const slack = new FakeSlack(SLACK_TOKEN);
const mattermost = new FakeMattermost(MM_TOKEN);
const faultsOf: Record<Service, Faults> = { openai: llm.faults, jira: jira.faults, xero: xero.faults, slack: slack.faults, mattermost: mattermost.faults };
const RULE = 'fault-matrix';
/** The outbox id of our collector (hostname:pid): a task claimed by any other collector sharing this Elasticsearch is not ours to judge. */
let collectorId = '';
const SLACK_CHANNEL = 'C0ONCALL01';
let stack: Stack;
let ns = '';

const config = () => `integrations:
  jira:
    url: ${jira.url}
    email: oncall@example.com
    api_token: \${JIRA_API_TOKEN}
    project: OPS
    comment_every: 1h
    timeout: 3s
  openai:
    base_url: ${llm.url}
    api_key: \${OPENAI_API_KEY}
    model: gpt-4o-mini
    timeout: 3s
  xero:
    client_id: stacklens-client
    client_secret: \${XERO_CLIENT_SECRET}
    tenant_id: tenant-7
    base_url: ${xero.url}/api.xro/2.0
    token_url: ${xero.url}/connect/token
    timeout: 3s
  slack:
    bot_token: \${SLACK_BOT_TOKEN}
    api_url: ${slack.url}/api/
    channel: "#oncall"
    index_messages: false
    timeout: 3s
  mattermost:
    url: ${mattermost.url}
    token: \${MATTERMOST_BOT_TOKEN}
    team: ops
    channel: oncall
    index_messages: false
    timeout: 3s
outbox:
  retry_budget: 60s
`;

// ---- one store = one incident ------------------------------------------------------------
interface Target {
  store: string;
  /** The product without a price: its Xero item code, unique to this store. */
  code: number;
  id: string;
  label: string;
  /** Lines written for it. */
  lines: number;
}

function target(store: string, code: number, lines: number): Target {
  const fp = incidentFingerprint(RULE, `logs-pos-${ns}`, { 'pos.store_id': store }, templateIdOf('pos', 'Product #999 has no price'));
  return { store, code, id: incidentId(fp), label: `stacklens-${fp.slice(0, 16)}`, lines };
}

const jiraIssuesOf = (t: Target) => jira.issues.filter((i) => String(i.fields.summary).endsWith(`(${t.store})`));
const slackTopOf = (t: Target) => slack.messages.filter((m) => m.channel === SLACK_CHANNEL && !m.thread_ts && (m.metadata?.event_payload?.incident_id === t.id || JSON.stringify(m.blocks ?? []).includes(t.id)));
const mattermostTopOf = (t: Target) => mattermost.botPosts('oncall').filter((p) => p.props?.stacklens_incident === t.id);

const parse = (s: unknown): any => {
  try {
    return typeof s === 'string' ? JSON.parse(s) : s;
  } catch {
    return undefined;
  }
};

/** Does this request act for one of these incidents? (What each service's requests carry.) */
function belongsTo(service: Service, req: FaultRequest, targets: Target[]): Target | undefined {
  const body = req.body as any;
  switch (service) {
    case 'jira': {
      const summary = String(body?.fields?.summary ?? '');
      return targets.find((t) => summary.endsWith(`(${t.store})`) || req.text.includes(`"${t.label}"`) || jiraIssuesOf(t).some((i) => req.path.startsWith(`/rest/api/3/issue/${i.key}/`)));
    }
    case 'openai': {
      const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
      const context = parse(messages.at(-1)?.content);
      return targets.find((t) => context?.group === `pos.store_id=${t.store}`);
    }
    case 'xero':
      return targets.find((t) => req.text.includes(`Code=="${t.code}"`));
    case 'slack': {
      const incident = parse(body?.metadata)?.event_payload?.incident_id;
      return targets.find((t) => incident === t.id || slackTopOf(t).some((m) => m.ts === body?.ts || m.ts === body?.thread_ts));
    }
    case 'mattermost':
      return targets.find((t) => body?.props?.stacklens_incident === t.id);
  }
}

// ---- what the stack looks like now: one poll for all cells ----------------------------------
interface OutboxTask {
  id: string;
  action: string;
  incident_id: string;
  status: 'pending' | 'running' | 'done' | 'failed';
  attempts: number;
  lease_until?: string;
  last_error?: string;
  result?: Record<string, unknown>;
  claimed_by?: string;
  claimants?: string[];
}

interface Snapshot {
  at: number;
  incidents: Map<string, any>;
  /** Pending and running tasks of the watched incidents. */
  open: OutboxTask[];
}

class Watch {
  private readonly watched = new Set<string>();
  private waiters: ((s: Snapshot) => void)[] = [];
  private timer?: NodeJS.Timeout;
  private stopped = false;
  latest?: Snapshot;

  add(ids: string[]): void {
    for (const id of ids) this.watched.add(id);
    if (!this.timer && !this.stopped) this.schedule(0);
  }

  remove(ids: string[]): void {
    for (const id of ids) this.watched.delete(id);
  }

  /** The next snapshot taken from now on. */
  next(): Promise<Snapshot> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => void this.poll(), ms);
  }

  private async poll(): Promise<void> {
    const ids = [...this.watched];
    const waiting = this.waiters.splice(0);
    try {
      if (ids.length) {
        await es.indices.refresh({ index: 'stacklens-incidents,stacklens-outbox', ignore_unavailable: true });
        const [incidents, open] = await Promise.all([
          es.search({ index: 'stacklens-incidents', size: ids.length, query: { ids: { values: ids } } }),
          es.search({ index: 'stacklens-outbox', size: 5000, query: { bool: { filter: [{ terms: { incident_id: ids } }, { terms: { status: ['pending', 'running'] } }] } } }),
        ]);
        this.latest = { at: Date.now(), incidents: new Map(incidents.hits.hits.map((h) => [h._id!, h._source])), open: open.hits.hits.map((h) => h._source as OutboxTask) };
      } else {
        this.latest = { at: Date.now(), incidents: new Map(), open: [] };
      }
      for (const w of waiting) w(this.latest);
    } catch {
      this.waiters.unshift(...waiting); // try again at the next poll
    }
    if (!this.stopped && (this.watched.size || this.waiters.length)) this.schedule(700);
    else this.timer = undefined;
  }
}
const watch = new Watch();

async function tasksOf(ids: string[]): Promise<OutboxTask[]> {
  await es.indices.refresh({ index: 'stacklens-outbox' });
  const res = await es.search({ index: 'stacklens-outbox', size: 5000, query: { terms: { incident_id: ids } } });
  return res.hits.hits.map((h) => h._source as OutboxTask);
}

// ---- a cell ---------------------------------------------------------------------------------
interface Observation {
  settled: boolean;
  /** Why the cell never became ready (the last check's answer). */
  notReady?: string;
  waitedMs: number;
  /** Why waiting stopped early: a task running past its lease. */
  stuck: OutboxTask[];
  incidents: Map<string, any>;
  tasks: OutboxTask[];
  /** The cell's own incident, as GET /api/incidents/:id answers it. */
  fromApi?: any;
  served: { kind: FaultKind; times: number; served: number }[];
  /** What the fakes hold for each incident, when the cell settled (later recoveries are not this cell's). */
  seen: Map<string, Seen>;
  /** Requests held unanswered (timeout, lost-response) that the client did not give up on in time. */
  unanswered: string[];
  error?: string;
}

interface Seen {
  issues: { key: string; summary: string; description: string }[];
  slack: { ts: string; content: string }[];
  mattermost: { id: string; content: string }[];
}

function seenOf(t: Target): Seen {
  return {
    issues: jiraIssuesOf(t).map((i) => ({ key: i.key, summary: String(i.fields.summary), description: JSON.stringify(i.fields.description) })),
    slack: slackTopOf(t).map((m) => ({ ts: m.ts, content: `${m.text} ${JSON.stringify(m.blocks ?? [])}` })),
    mattermost: mattermostTopOf(t).map((p) => ({ id: p.id, content: JSON.stringify(p.props) })),
  };
}

class Cell {
  readonly main: Target;
  readonly burst: Target[] = [];
  readonly faults: Fault[] = [];
  readonly name: string;
  observation?: Observation;
  startedAt = 0;
  private resolve!: (o: Observation) => void;
  readonly outcome = new Promise<Observation>((r) => (this.resolve = r));

  constructor(
    readonly service: Service,
    readonly kind: FaultKind,
    readonly moment: Moment,
    readonly index: number,
  ) {
    this.name = `${SERVICE_NAMES[service]} × ${kind} × ${moment}`;
    const store = `STORE_${ns}_C${String(index).padStart(3, '0')}`;
    const code = 1000 + index * 20;
    this.main = target(store, code, 1);
    if (moment === 'during a 100-error burst') for (let j = 0; j < BURST_STORES; j++) this.burst.push(target(`${store}B${j}`, code + 1 + j, BURST_LINES_PER_STORE));
  }

  get targets(): Target[] {
    return [this.main, ...this.burst];
  }

  get deadlineMs(): number {
    return this.kind === 'timeout' || this.kind === 'lost-response' ? TIMEOUT_SETTLE_MS : SETTLE_MS;
  }

  private inject(service: Service, kind: FaultKind, times: number, match: (req: FaultRequest) => boolean): void {
    this.faults.push(faultsOf[service].inject(kind, { times, match }));
  }

  async run(): Promise<void> {
    const started = Date.now();
    this.startedAt = started;
    const targets = this.targets;
    watch.add(targets.map((t) => t.id));
    try {
      const mine = (req: FaultRequest) => belongsTo(this.service, req, targets) !== undefined;
      if (this.kind === 'lost-response') {
        // Jira creates the issue; the answer never arrives (the client must time out, and its retry find the issue).
        this.inject('jira', 'lost-response', 1, (req) => req.method === 'POST' && req.path === '/rest/api/3/issue' && mine(req));
        stack.log.append([missingPrice(this.main.store, this.main.code)]);
      } else if (this.moment === 'first attempt') {
        this.inject(this.service, this.kind, 1, mine);
        stack.log.append([missingPrice(this.main.store, this.main.code)]);
      } else if (this.moment === 'retry') {
        this.inject(this.service, '503', 1, mine);
        this.inject(this.service, this.kind, 1, mine);
        // Xero's failure is noted, not retried: make the triage's first attempt fail (a 503 from the
        // LLM after Xero's 503) so that its retry meets Xero's fault.
        if (this.service === 'xero') this.inject('openai', '503', 1, (req) => belongsTo('openai', req, [this.main]) !== undefined);
        stack.log.append([missingPrice(this.main.store, this.main.code)]);
      } else {
        const lines = this.burst.flatMap((t) => Array.from({ length: BURST_LINES_PER_STORE }, () => missingPrice(t.store, t.code)));
        // Interleaved by store, as a real burst arrives.
        const shuffled = lines.map((l, i) => [(i % BURST_LINES_PER_STORE) * BURST_STORES + Math.floor(i / BURST_LINES_PER_STORE), l] as const).sort((a, b) => a[0] - b[0]).map(([, l]) => l);
        stack.log.append([missingPrice(this.main.store, this.main.code), ...shuffled.slice(0, 50)]);
        this.inject(this.service, this.kind, BURST_FAULTS, mine);
        stack.log.append(shuffled.slice(50));
      }
      this.observation = await this.settle(started);
    } catch (err) {
      this.observation = { settled: false, waitedMs: Date.now() - started, stuck: [], incidents: new Map(), tasks: [], served: this.served(), seen: new Map(), unanswered: [], error: (err as Error).stack ?? String(err) };
    } finally {
      for (const f of this.faults) f.clear();
      watch.remove(targets.map((t) => t.id));
      this.resolve(this.observation!);
    }
  }

  private served() {
    return this.faults.map((f) => ({ kind: f.kind, times: f.times, served: f.served }));
  }

  /** Every incident of the cell has been triaged, ticketed (or failed) and posted (or failed), and no task is open — twice in a row. */
  private ready(s: Snapshot): boolean {
    this.notReady = this.whyNotReady(s);
    return this.notReady === undefined;
  }

  /** What the cell still waits for (reported when it never settles), or undefined when it is ready. */
  notReady?: string;

  private whyNotReady(s: Snapshot): string | undefined {
    const unserved = this.faults.filter((f) => f.served < f.times);
    if (unserved.length) return `faults not served: ${unserved.map((f) => `${f.kind} ${f.served}/${f.times}`).join(', ')}`;
    for (const t of this.targets) {
      const inc = s.incidents.get(t.id);
      if (!inc) return `${t.store}: no incident ${t.id}`;
      if (inc.count !== t.lines) return `${t.store}: count ${inc.count} of ${t.lines}`;
      const stages = new Set<string>(inc.timeline.map((e: any) => e.stage));
      const posted = (platform: string) => inc.chat?.messages?.some((m: any) => m.platform === platform) || stages.has('chat_post_failed');
      const missing = [
        !(inc.triage || stages.has('triage_failed')) && 'triage',
        !(inc.ticket || stages.has('ticket_failed')) && 'ticket',
        !posted('slack') && 'slack post',
        !posted('mattermost') && 'mattermost post',
        s.open.some((task) => task.incident_id === t.id) && 'open tasks',
      ].filter(Boolean);
      if (missing.length) return `${t.store}: waits for ${missing.join(', ')}`;
    }
    return undefined;
  }

  /**
   * A request the fake holds unanswered must be given up by the client within its timeout (the
   * configured one, else before the outbox lease runs out). One held past that is recorded and
   * its connection reset, so the cell goes on to show how the product recovers.
   */
  private resetOverdue(now: number): void {
    for (const f of this.faults) {
      if (f.kind !== 'timeout' && f.kind !== 'lost-response') continue;
      for (const h of f.hits) if (h.endedAt === undefined && now - h.at > CLIENT_GIVES_UP_MS[h.service as Service]) faultsOf[h.service as Service].release(h);
    }
  }

  private async settle(started: number): Promise<Observation> {
    const ids = new Set(this.targets.map((t) => t.id));
    let stableFor = 0;
    const stuck = new Map<string, OutboxTask>();
    let settled = false;
    for (;;) {
      const s = await watch.next();
      this.resetOverdue(Date.now());
      // A task still running a while after its lease ran out (its request outlived the lease, or it waited for a slot).
      for (const task of s.open) {
        if (ids.has(task.incident_id) && task.status === 'running' && task.lease_until !== undefined && Date.parse(task.lease_until) < s.at - 2000 && !stuck.has(task.id)) stuck.set(task.id, task);
      }
      if (stuck.size) break; // the cell has its answer; the requests it holds are reset when it ends
      stableFor = this.ready(s) ? stableFor + 1 : 0;
      if (stableFor >= 2) {
        settled = true;
        break;
      }
      if (Date.now() - started > this.deadlineMs) break;
    }
    const seen = new Map(this.targets.map((t) => [t.id, seenOf(t)]));
    const snapshot = watch.latest!;
    const incidents = new Map([...ids].map((id) => [id, snapshot.incidents.get(id)]));
    const fromApi = (await api(stack.collectors[0], `/incidents/${this.main.id}`)).body;
    incidents.set(this.main.id, fromApi?.id ? fromApi : incidents.get(this.main.id));
    return { settled, notReady: this.notReady, waitedMs: Date.now() - started, stuck: [...stuck.values()], incidents, tasks: await tasksOf([...ids]), fromApi, served: this.served(), seen, unanswered: this.unanswered() };
  }

  /** Held requests the client did not give up on within the time it is allowed (those cut short when the cell ended are no evidence either way). */
  private unanswered(): string[] {
    const now = Date.now();
    return this.faults
      .filter((f) => f.kind === 'timeout' || f.kind === 'lost-response')
      .flatMap((f) => f.hits)
      .filter((h) => (h.endedAt ?? now) - h.at > CLIENT_GIVES_UP_MS[h.service as Service])
      .map((h) => {
        const waited = `${(((h.endedAt ?? now) - h.at) / 1000).toFixed(1)} s`;
        const allowed = `${CLIENT_GIVES_UP_MS[h.service as Service] / 1000} s`;
        return h.endedBy === 'client' ? `${SERVICE_NAMES[h.service as Service]} ${h.method} ${h.path}: the client gave up only after ${waited} (allowed: ${allowed})` : `${SERVICE_NAMES[h.service as Service]} ${h.method} ${h.path}: the client was still waiting after ${waited} (allowed: ${allowed}) when the fake reset the connection`;
      });
  }
}

// ---- what must hold -----------------------------------------------------------------------
interface Hit {
  service: Service;
  kind: FaultKind;
  req: FaultRequest;
}

/** The faults this cell served to requests made for this incident. */
function hitsFor(cell: Cell, t: Target): Hit[] {
  return cell.faults.flatMap((f) => f.hits).flatMap((h) => (belongsTo(h.service as Service, h.request, [t]) ? [{ service: h.service as Service, kind: h.kind, req: h.request }] : []));
}

type Check = Record<string, unknown>;

/**
 * What one incident of the cell shows, and what it must show: two objects compared whole, so
 * a failing cell reads as a diff of what was observed against what was expected.
 */
function verdict(cell: Cell, t: Target, o: Observation): { observed: Check; expected: Check } {
  const inc = o.incidents.get(t.id);
  const tasks = o.tasks.filter((task) => task.incident_id === t.id);
  const hits = hitsFor(cell, t);
  const body = (req: FaultRequest) => req.body as any;
  const refused = (svc: Service, what: (req: FaultRequest) => boolean) => hits.some((h) => h.kind === '401' && h.service === svc && what(h.req));
  // Which request a 401 landed on decides which action fails for good.
  const ticketRefused = refused('jira', (r) => r.path === '/rest/api/3/search/jql' || r.path === '/rest/api/3/issue');
  const commentRefused = refused('jira', (r) => r.path.endsWith('/comment'));
  const slackPostRefused = refused('slack', (r) => r.path === '/api/chat.postMessage' && !body(r)?.thread_ts);
  const slackUpdateRefused = refused('slack', (r) => r.path === '/api/chat.update' || (r.path === '/api/chat.postMessage' && Boolean(body(r)?.thread_ts)));
  const mmPostRefused = refused('mattermost', (r) => r.method === 'POST' && r.path === '/api/v4/posts' && !body(r)?.root_id);
  const mmUpdateRefused = refused('mattermost', (r) => r.path.endsWith('/patch') || (r.method === 'POST' && r.path === '/api/v4/posts' && Boolean(body(r)?.root_id)));
  const uniq = (xs: string[]) => [...new Set(xs)].sort();

  const timeline: any[] = inc?.timeline ?? [];
  const stages: string[] = timeline.map((e) => e.stage);
  const last = (...which: string[]) => [...timeline].reverse().find((e) => which.includes(e.stage));
  const { issues, slack: slackTop, mattermost: mmTop } = o.seen.get(t.id) ?? { issues: [], slack: [], mattermost: [] };
  const failed = tasks.filter((task) => task.status === 'failed');

  // The ticket step: created once with the key that exists on Jira, or failed naming authentication.
  const ticketStep = (): string => {
    const failedEntry = last('ticket_failed');
    if (failedEntry && !inc?.ticket) return AUTH.test(String(failedEntry.note)) ? 'ticket_failed (authentication)' : `ticket_failed: ${failedEntry.note}`;
    const created = stages.filter((st) => st === 'ticket_created').length;
    if (issues.length === 1 && created === 1 && inc?.ticket?.key === issues[0].key && String(last('ticket_created')?.note).startsWith(issues[0].key)) return 'ticket_created (the key on Jira)';
    const steps = timeline.filter((e) => e.stage.startsWith('ticket_')).map((e) => `${e.stage}${e.note ? ` "${e.note}"` : ''}`);
    return `${issues.length} issue(s) on Jira [${issues.map((i) => i.key)}], incident ticket ${inc?.ticket?.key}, steps [${steps.join(', ')}]`;
  };

  // Triage: what the LLM really did to this incident, and what the timeline says of it.
  const triage = inc?.triage;
  const llmKinds = uniq(hits.filter((h) => h.service === 'openai').map((h) => h.kind)) as FaultKind[];
  const xeroKinds = uniq(hits.filter((h) => h.service === 'xero').map((h) => h.kind)) as FaultKind[];
  const triageSource = triage?.source === 'llm' ? 'llm' : triage?.source === 'runbook' ? `runbook: ${triage.note}` : `no triage (${JSON.stringify(triage)})`;
  const fellBackTruly = triage?.source === 'runbook' && llmKinds.some((k) => LLM_NOTE[k].test(String(triage.note ?? '')));
  let expectedSource: string;
  if (cell.moment !== 'during a 100-error burst') {
    // One or two faults, then the service is back: the LLM answers — unless it refused our key (final).
    expectedSource = llmKinds.includes('401') ? (fellBackTruly ? triageSource : 'runbook: LLM refused our credentials (401) …') : 'llm';
  } else {
    // Several faults during the burst may land on one incident's attempts: runbook then, naming what the LLM did.
    expectedSource = triage?.source === 'llm' || fellBackTruly ? triageSource : 'llm, or runbook naming what the LLM did';
  }
  const lastTriage = last('triage_completed', 'triage_failed');
  const triageTold =
    triage?.source === 'llm'
      ? lastTriage?.stage === 'triage_completed' && lastTriage.note === `gpt-4o-mini, confidence ${triage.analysis?.confidence}`
      : triage?.source === 'runbook' && lastTriage?.stage === 'triage_failed' && String(lastTriage.note).startsWith(String(triage.note).slice(0, 60));
  const xeroItem = `Xero lists item ${t.code} 'Item ${t.code}' at 1.25; the POS master data has no price`;
  // One triage, one Xero fault (first attempt, retry): the triage must say Xero failed and how; in a burst the incident may have met the fault or not.
  const xeroHitOnce = cell.service === 'xero' && cell.moment !== 'during a 100-error burst' && cell.kind !== 'lost-response';
  const xeroTrue = xeroHitOnce
    ? XERO_NOTE[cell.kind].test(String(triage?.xero_note ?? '')) && issues.length === 1 && issues[0].description.includes('Accounting (Xero): ') && issues[0].description.includes(JSON.stringify(String(triage.xero_note)).slice(1, -1))
    : triage?.xero
      ? triage.xero.summary === xeroItem
      : xeroKinds.some((k) => XERO_NOTE[k].test(String(triage?.xero_note ?? '')));

  // The alert, as edited last, shows the ticket (the message is edited in place; the thread tells what came after posting).
  const shows = (content: string, refusedUpdate: boolean) => (issues.length === 1 && !refusedUpdate ? content.includes(issues[0].key) : 'n/a');
  const expectedShows = (posts: number, refusedUpdate: boolean) => (posts === 1 && issues.length === 1 && !refusedUpdate ? true : 'n/a');

  const observed: Check = {
    'outbox: claimed by another collector on this Elasticsearch (test isolation, not the product)': uniq(tasks.flatMap((task) => (task.claimants ?? []).filter((c) => c !== collectorId).map((c) => `${task.action} by ${c}`))),
    'incident: silenced by a silence made elsewhere on this Elasticsearch (test isolation, not the product)': timeline.filter((e) => e.stage === 'silenced').map((e) => String(e.note)),
    'outbox: settled (every task done or failed)': o.settled || `no — ${o.notReady ?? 'see the other checks'}`,
    'outbox: running past its lease': o.stuck.filter((task) => task.incident_id === t.id).map((task) => `${task.id} (attempt ${task.attempts}, lease until ${task.lease_until})`),
    'outbox: left pending or running': tasks.filter((task) => task.status === 'pending' || task.status === 'running').map((task) => `${task.id} ${task.status} (attempt ${task.attempts}): ${task.last_error ?? ''}`),
    'outbox: failed': failed.map((task) => `${task.action}${AUTH.test(String(task.last_error)) ? ' (authentication)' : `: ${task.last_error}`}`).sort(),
    'jira: issues': issues.length,
    'timeline: ticket': ticketStep(),
    'slack: top-level posts': slackTop.length,
    'mattermost: top-level posts': mmTop.length,
    'slack: the alert shows the ticket': slackTop.length === 1 ? shows(slackTop[0].content, slackUpdateRefused) : 'n/a',
    'mattermost: the alert shows the ticket': mmTop.length === 1 ? shows(mmTop[0].content, mmUpdateRefused) : 'n/a',
    'timeline: chat failures': uniq(stages.filter((st) => st.startsWith('chat_'))),
    'triage': triageSource,
    'timeline: the triage step says what happened': triageTold,
    'triage: Xero context, or the true reason it is missing': xeroTrue ? true : triage?.xero ? `xero: ${triage.xero.summary}` : `xero_note: ${triage?.xero_note}${xeroHitOnce && issues.length === 1 && !issues[0].description.includes('Accounting (Xero)') ? ' (the ticket does not say)' : ''}`,
  };
  const expected: Check = {
    'outbox: claimed by another collector on this Elasticsearch (test isolation, not the product)': [],
    'incident: silenced by a silence made elsewhere on this Elasticsearch (test isolation, not the product)': [],
    'outbox: settled (every task done or failed)': true,
    'outbox: running past its lease': [],
    'outbox: left pending or running': [],
    'outbox: failed': uniq([
      ...(ticketRefused ? ['ticket (authentication)'] : []),
      ...(commentRefused ? ['comment (authentication)'] : []),
      ...(slackPostRefused || mmPostRefused ? ['chat_post (authentication)'] : []),
      ...(slackUpdateRefused || mmUpdateRefused ? ['chat_update (authentication)'] : []),
    ]),
    'jira: issues': ticketRefused ? 0 : 1,
    'timeline: ticket': ticketRefused ? 'ticket_failed (authentication)' : 'ticket_created (the key on Jira)',
    'slack: top-level posts': slackPostRefused ? 0 : 1,
    'mattermost: top-level posts': mmPostRefused ? 0 : 1,
    'slack: the alert shows the ticket': expectedShows(slackTop.length, slackUpdateRefused),
    'mattermost: the alert shows the ticket': expectedShows(mmTop.length, mmUpdateRefused),
    'timeline: chat failures': uniq([...(slackPostRefused || mmPostRefused ? ['chat_post_failed'] : []), ...(slackUpdateRefused || mmUpdateRefused ? ['chat_update_failed'] : [])]),
    'triage': expectedSource,
    'timeline: the triage step says what happened': true,
    'triage: Xero context, or the true reason it is missing': true,
  };
  // A failed task's several failures (the same action failing twice) show once.
  observed['outbox: failed'] = uniq(observed['outbox: failed'] as string[]);
  return { observed, expected };
}

// ---- the runner: cells in phases, each phase's cells concurrently ---------------------------
const cells: Cell[] = [];
let lostResponse: Cell;
let runAll: Promise<void> | undefined;
let runStartedAt = 0;

async function runLimited(list: Cell[], limit: number): Promise<void> {
  const queue = [...list];
  await Promise.all(
    Array.from({ length: Math.min(limit, queue.length) }, async () => {
      for (let c = queue.shift(); c; c = queue.shift()) await c.run();
    }),
  );
}

/**
 * Which cells run together. A request that is never answered holds one of the collector's
 * outbox slots (ticket: 2, triage: 4, chat_post: 2, chat_update: 1) until the client gives up —
 * or the fake resets it after CLIENT_GIVES_UP_MS: 13 s where a timeout is configured (Jira,
 * OpenAI, Xero), the 60 s lease where none can be (Slack, Mattermost). So the timeouts of those
 * two run on their own, one service per phase, and everything else together, the failures that
 * are slow to settle first.
 */
function phases(): Cell[][] {
  const all = [...cells, lostResponse];
  const alone = (c: Cell) => (c.kind === 'timeout' || c.kind === 'lost-response') && CLIENT_GIVES_UP_MS[c.service] >= LEASE_MS;
  const order: FaultKind[] = ['401', 'malformed', 'timeout', 'lost-response', '429', '503', 'refused'];
  const main = all.filter((c) => !alone(c));
  main.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || MOMENTS.indexOf(b.moment) - MOMENTS.indexOf(a.moment) || SERVICES.indexOf(a.service) - SERVICES.indexOf(b.service));
  return [main, ...SERVICES.map((s) => all.filter((c) => alone(c) && c.service === s)).filter((p) => p.length)];
}

beforeAll(async () => {
  await Promise.all([jira.start(), llm.start(), xero.start(), slack.start(), mattermost.start()]);
  stack = await startStack(esUrl, running, { 'fault-matrix.yml': missingPriceAnyRule(RULE, 'labels: { error_type: MISSING_PRICE }\nnotify: [jira, slack, mattermost]') }, {
    extra: config(),
    env: { JIRA_API_TOKEN: JIRA_TOKEN, OPENAI_API_KEY: OPENAI_KEY, XERO_CLIENT_SECRET: XERO_SECRET, SLACK_BOT_TOKEN: SLACK_TOKEN, MATTERMOST_BOT_TOKEN: MM_TOKEN },
  });
  ns = stack.ns;
  collectorId = `${hostname()}:${stack.collectors[0].proc.child.pid}`;
  let index = 0;
  for (const service of SERVICES) for (const kind of FAILURES) for (const moment of MOMENTS) cells.push(new Cell(service, kind, moment, index++));
  lostResponse = new Cell('jira', 'lost-response', 'first attempt', index++);
  for (const c of [...cells, lostResponse]) for (const t of c.targets) xero.items.push({ ItemID: `00000000-0000-4000-8000-${String(t.code).padStart(12, '0')}`, Code: String(t.code), Name: `Item ${t.code}`, Description: `Item ${t.code}`, SalesDetails: { UnitPrice: 1.25 } });

  // Warm up: one incident through every service before any fault (tokens, channel ids, connections).
  const warm = target(`STORE_${ns}_WARM`, 999, 1);
  stack.log.append([missingPrice(warm.store, 999)]);
  await waitFor(
    'the warm-up incident ticketed and posted in Slack and Mattermost',
    async () => jiraIssuesOf(warm).length === 1 && slackTopOf(warm).length === 1 && mattermostTopOf(warm).length === 1,
    90_000,
    250,
  );
  runStartedAt = Date.now();
  runAll = (async () => {
    for (const phase of phases()) await runLimited(phase, PHASE_CONCURRENCY);
  })();
}, 240_000);

afterAll(async () => {
  for (const f of Object.values(faultsOf)) f.clear();
  watch.stop();
  if (process.env.FAULT_MATRIX_REPORT) {
    const report = [...cells, lostResponse].filter(Boolean).map((c) => {
      const o = c.observation;
      return {
        cell: c.name,
        started_s: Math.round((c.startedAt - runStartedAt) / 1000),
        settled: o?.settled,
        waited_s: o ? Math.round(o.waitedMs / 100) / 10 : undefined,
        served: o?.served,
        unanswered: o?.unanswered,
        error: o?.error,
        incidents: o ? c.targets.map((t) => ({ store: t.store, ...verdict(c, t, o) })) : undefined,
        tasks: o?.tasks.filter((t) => t.status !== 'done' || (t.claimants ?? []).some((c) => c !== collectorId)).map((t) => ({ id: t.id, status: t.status, attempts: t.attempts, lease_until: t.lease_until, last_error: t.last_error, claimants: t.claimants })),
        timeline: o?.fromApi?.timeline?.map((e: any) => `${e.stage}${e.note ? `: ${e.note}` : ''}`),
      };
    });
    writeFileSync(process.env.FAULT_MATRIX_REPORT, JSON.stringify(report, null, 2));
  }
  for (const p of running.splice(0)) await p.stop('SIGKILL');
  await Promise.all([jira.stop(), llm.stop(), xero.stop(), slack.stop(), mattermost.stop()]);
});

function expectCell(cell: Cell, o: Observation): void {
  expect(o.error, `the cell ran (${cell.name})`).toBeUndefined();
  expect(o.unanswered, 'requests left unanswered were given up by the client in time').toEqual([]);
  // The fault really happened: a cell whose fault was never served tested nothing.
  expect(o.served, 'faults served').toEqual(o.served.map((f) => ({ ...f, served: f.times })));
  for (const t of cell.targets) {
    const { observed, expected } = verdict(cell, t, o);
    expect(observed, `${cell.name}: incident ${t.id} (${t.store})`).toEqual(expected);
  }
}

const CELL_TIMEOUT = 900_000; // the runner bounds every cell (its settle deadline); this only has to outlast the queue before it

describe.each(SERVICES.map((service) => [SERVICE_NAMES[service], service] as const))('%s', (_name, service) => {
  describe.each(FAILURES.map((kind) => [FAILURE_NAMES[kind], kind] as const))('%s', (_failure, kind) => {
    it.each(MOMENTS.map((moment) => [moment]))(
      '%s',
      async (moment) => {
        const cell = cells.find((c) => c.service === service && c.kind === kind && c.moment === moment)!;
        expectCell(cell, await cell.outcome);
      },
      CELL_TIMEOUT,
    );
  });
});

describe('Jira', () => {
  it(
    'creates the issue and the response never arrives: the client times out, the retry finds the issue (one ticket)',
    async () => {
      const o = await lostResponse.outcome;
      expectCell(lostResponse, o);
      // The server really created it before the answer was lost, and the retry adopted it.
      expect(lostResponse.faults[0].hits.map((h) => h.handled)).toEqual([201]);
      expect(o.fromApi?.ticket).toMatchObject({ key: o.seen.get(lostResponse.main.id)?.issues[0]?.key, found: true });
    },
    CELL_TIMEOUT,
  );
});

it('the runner finished every cell; every bot message in chat is an alert or a reply in its thread', async () => {
  await runAll;
  expect([...cells, lostResponse].filter((c) => !c.observation).map((c) => c.name)).toEqual([]);
  // An update posted as a new message would be a second thread: everything top-level names its incident.
  expect(slack.messages.filter((m) => m.channel === SLACK_CHANNEL && !m.thread_ts && m.metadata?.event_type !== 'stacklens_incident').map((m) => m.text)).toEqual([]);
  expect(mattermost.botPosts('oncall').filter((p) => !p.props?.stacklens_incident).map((p) => p.message)).toEqual([]);
}, CELL_TIMEOUT);
