// A local server speaking the parts of Jira Cloud REST v3 StackLens uses, as documented:
// basic auth (email:api_token), POST /rest/api/3/issue, GET /rest/api/3/search/jql (the
// enhanced JQL search; `labels = "x"` and statusCategory), comments, serverInfo, myself.
// It can be taken down (503), rate-limit (429 + Retry-After) and checks that descriptions
// are well-formed Atlassian Document Format. `faults` fails chosen requests (see faults.ts).
import express from 'express';
import type { Server } from 'node:http';
import { Faults, truncatedJson } from './faults.js';

export interface FakeIssue {
  key: string;
  fields: Record<string, any>;
  comments: unknown[];
  /** performance.now() when it was created (for latency measurements). */
  createdAt?: number;
}

export class FakeJira {
  readonly issues: FakeIssue[] = [];
  readonly requests: { method: string; path: string; status: number }[] = [];
  /** 'up', 'down' (503 on everything), or 'rate-limited' (429 with Retry-After: 1). */
  mode: 'up' | 'down' | 'rate-limited' = 'up';
  /** Fault injection: 503, 429, 401, malformed, timeout, refused, lost-response (the issue created, the answer never sent). */
  readonly faults = new Faults('jira', {
    unavailable: (res) => void res.status(503).type('text/plain').send('Service Unavailable'),
    rateLimited: (res) => void res.status(429).set('Retry-After', '1').json({ errorMessages: ['Rate limit exceeded'] }),
    unauthorized: (res) => void res.status(401).json({ errorMessages: ['You are not authenticated. Authentication required to perform this operation.'] }),
    malformed: (res) => truncatedJson(res, { id: '10001', key: 'OPS-1', self: `${this.url}/rest/api/3/issue/OPS-1`, issues: [{ id: '10001', key: 'OPS-1', fields: {} }], isLast: true }),
  });
  private server?: Server;
  url = '';

  constructor(
    readonly email: string,
    readonly apiToken: string,
  ) {}

  async start(): Promise<string> {
    const app = express();
    app.use(express.json({ limit: '2mb' }));
    app.use((req, res, next) => {
      res.on('finish', () => this.requests.push({ method: req.method, path: req.path, status: res.statusCode }));
      next();
    });
    app.use(this.faults.middleware());
    app.use((req, res, next) => {
      if (this.mode === 'down') return void res.status(503).send('Service Unavailable');
      if (this.mode === 'rate-limited') return void res.status(429).set('Retry-After', '1').json({ errorMessages: ['Rate limit exceeded'] });
      const expected = `Basic ${Buffer.from(`${this.email}:${this.apiToken}`).toString('base64')}`;
      if (req.headers.authorization !== expected) return void res.status(401).json({ errorMessages: ['You are not authenticated. Authentication required to perform this operation.'] });
      next();
    });
    app.get('/rest/api/3/serverInfo', (_req, res) => res.json({ baseUrl: this.url, version: '1001.0.0', deploymentType: 'Cloud' }));
    app.get('/rest/api/3/myself', (_req, res) => res.json({ accountId: 'acc-1', emailAddress: this.email, active: true }));
    app.get('/rest/api/3/search/jql', (req, res) => {
      const jql = String(req.query.jql ?? '');
      const label = /labels\s*=\s*"([^"]+)"/.exec(jql)?.[1];
      const openOnly = /statusCategory\s*!=\s*Done/i.test(jql);
      const found = this.issues.filter((i) => (!label || i.fields.labels.includes(label)) && (!openOnly || i.fields.status.statusCategory.key !== 'done'));
      res.json({ issues: found.map((i) => ({ id: i.key, key: i.key, fields: {} })), isLast: true });
    });
    app.post('/rest/api/3/issue', (req, res) => {
      const f = req.body?.fields ?? {};
      const problems = [];
      if (!f.project?.key) problems.push('project: is required');
      if (!f.issuetype?.name) problems.push('issuetype: is required');
      if (!f.summary || f.summary.length > 255) problems.push('summary: is required and at most 255 characters');
      const adf = checkAdf(f.description);
      if (adf) problems.push(`description: ${adf}`);
      if (problems.length) return void res.status(400).json({ errorMessages: [], errors: Object.fromEntries(problems.map((p) => p.split(': '))) });
      const key = `${f.project.key}-${this.issues.length + 1}`;
      this.issues.push({ key, fields: { ...f, status: { name: 'To Do', statusCategory: { key: 'new' } } }, comments: [], createdAt: performance.now() });
      res.status(201).json({ id: String(10000 + this.issues.length), key, self: `${this.url}/rest/api/3/issue/${key}` });
    });
    app.post('/rest/api/3/issue/:key/comment', (req, res) => {
      const issue = this.issues.find((i) => i.key === req.params.key);
      if (!issue) return void res.status(404).json({ errorMessages: ['Issue does not exist or you do not have permission to see it.'] });
      const adf = checkAdf(req.body?.body);
      if (adf) return void res.status(400).json({ errors: { body: adf } });
      issue.comments.push(req.body.body);
      res.status(201).json({ id: String(issue.comments.length) });
    });
    app.get('/rest/api/3/issue/:key/transitions', (req, res) => {
      const issue = this.issues.find((i) => i.key === req.params.key);
      if (!issue) return void res.status(404).json({ errorMessages: ['Issue does not exist or you do not have permission to see it.'] });
      res.json({ transitions: [{ id: '31', name: 'Done', to: { name: 'Done', statusCategory: { key: 'done' } } }, { id: '21', name: 'In Progress', to: { name: 'In Progress' } }] });
    });
    app.post('/rest/api/3/issue/:key/transitions', (req, res) => {
      const issue = this.issues.find((i) => i.key === req.params.key);
      if (!issue) return void res.status(404).json({ errorMessages: ['Issue does not exist or you do not have permission to see it.'] });
      const id = req.body?.transition?.id;
      if (id === '31') issue.fields.status = { name: 'Done', statusCategory: { key: 'done' } };
      else if (id === '21') issue.fields.status = { name: 'In Progress', statusCategory: { key: 'indeterminate' } };
      else return void res.status(400).json({ errorMessages: [`Transition id '${id}' is not valid for this issue.`] });
      res.status(204).end();
    });
    this.server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this.url;
  }

  /** An issue created by hand (or by a collector that crashed before recording it). */
  seed(fields: Record<string, any>): string {
    const key = `${fields.project?.key ?? 'OPS'}-${this.issues.length + 1}`;
    this.issues.push({ key, fields: { ...fields, status: { name: 'To Do', statusCategory: { key: 'new' } } }, comments: [] });
    return key;
  }

  async stop(): Promise<void> {
    this.faults.close();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** Minimal ADF well-formedness: a doc, version 1, nodes with types, text nodes with text. */
export function checkAdf(doc: any): string | undefined {
  if (!doc || doc.type !== 'doc' || doc.version !== 1 || !Array.isArray(doc.content)) return 'must be an ADF document ({type: "doc", version: 1, content: [...]})';
  const walk = (node: any, path: string): string | undefined => {
    if (!node || typeof node.type !== 'string') return `${path}: node without a type`;
    if (node.type === 'text') return typeof node.text === 'string' && node.text.length > 0 ? undefined : `${path}: text node without text`;
    if (node.content !== undefined && !Array.isArray(node.content)) return `${path}: content must be an array`;
    for (const [i, child] of (node.content ?? []).entries()) {
      const bad = walk(child, `${path}.content[${i}]`);
      if (bad) return bad;
    }
    return undefined;
  };
  return walk(doc, 'doc');
}
