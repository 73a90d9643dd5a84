// A local server speaking the parts of Xero StackLens uses, as documented: the
// client-credentials token endpoint (POST /connect/token, basic auth) and the Accounting
// API's Items and Invoices with a `where` filter (Bearer token + xero-tenant-id header).
// Mode 'down' answers 503 to the Accounting API; `faults` fails chosen requests (see faults.ts).
import express from 'express';
import type { Server } from 'node:http';
import { Faults, truncatedJson } from './faults.js';

export class FakeXero {
  mode: 'up' | 'down' = 'up';
  readonly items = [{ ItemID: '9f4a3a2e-0000-4000-8000-000000000999', Code: '999', Name: 'Mystery Product', Description: 'Seasonal mystery box', SalesDetails: { UnitPrice: 4.5 } }];
  readonly invoices = [{ InvoiceID: '1b2c', InvoiceNumber: 'INV-4242', Status: 'AUTHORISED', AmountDue: 23.5, Total: 23.5 }];
  tokensIssued = 0;
  readonly requests: { method: string; path: string; url: string; status: number }[] = [];
  /** Fault injection in Xero's documented shapes (see faults.ts); `match` sees the decoded `where` filter, e.g. Code=="999". */
  readonly faults = new Faults('xero', {
    unavailable: (res) => void res.status(503).type('text/plain').send('Service Unavailable'),
    rateLimited: (res) => void res.status(429).set({ 'Retry-After': '1', 'X-Rate-Limit-Problem': 'minute', 'X-MinLimit-Remaining': '0' }).type('text/plain').send('Too Many Requests'),
    unauthorized: (res) => void res.status(401).json({ Type: null, Title: 'Unauthorized', Status: 401, Detail: 'AuthenticationUnsuccessful' }),
    malformed: (res) => truncatedJson(res, { Id: 'x', Status: 'OK', ProviderName: 'StackLens', Items: this.items, Invoices: this.invoices }),
  });
  private server?: Server;
  private readonly tokens = new Set<string>();
  url = '';

  constructor(
    readonly clientId: string,
    readonly clientSecret: string,
    readonly tenantId: string,
  ) {}

  async start(): Promise<string> {
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.use((req, res, next) => {
      res.on('finish', () => this.requests.push({ method: req.method, path: req.path, url: req.originalUrl, status: res.statusCode }));
      next();
    });
    app.use(this.faults.middleware());
    app.post('/connect/token', (req, res) => {
      const expected = `Basic ${Buffer.from(`${this.clientId}:${this.clientSecret}`).toString('base64')}`;
      if (req.headers.authorization !== expected) return void res.status(400).json({ error: 'invalid_client' });
      if (req.body.grant_type !== 'client_credentials') return void res.status(400).json({ error: 'unsupported_grant_type' });
      const token = `xero-access-${++this.tokensIssued}-${Math.random().toString(36).slice(2)}`;
      this.tokens.add(token);
      res.json({ access_token: token, expires_in: 1800, token_type: 'Bearer', scope: String(req.body.scope ?? '') });
    });
    const api = express.Router();
    api.use((req, res, next) => {
      if (this.mode === 'down') return void res.status(503).send('Service Unavailable');
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!token || !this.tokens.has(token)) return void res.status(401).json({ Type: null, Title: 'Unauthorized', Status: 401, Detail: 'AuthenticationUnsuccessful' });
      if (req.headers['xero-tenant-id'] !== this.tenantId) return void res.status(403).json({ Type: null, Title: 'Forbidden', Status: 403, Detail: 'AuthorizationUnsuccessful' });
      next();
    });
    const where = (req: express.Request, field: string) => new RegExp(`${field}=="([^"]*)"`).exec(String(req.query.where ?? ''))?.[1];
    api.get('/Organisation', (_req, res) => {
      res.json({ Id: 'x', Status: 'OK', Organisations: [{ OrganisationID: this.tenantId, Name: 'Demo Company (Global)' }] });
    });
    api.get('/Items', (req, res) => {
      const code = where(req, 'Code');
      res.json({ Id: 'x', Status: 'OK', Items: this.items.filter((i) => code === undefined || i.Code === code) });
    });
    api.get('/Invoices', (req, res) => {
      const number = where(req, 'InvoiceNumber');
      res.json({ Id: 'x', Status: 'OK', Invoices: this.invoices.filter((i) => number === undefined || i.InvoiceNumber === number) });
    });
    app.use('/api.xro/2.0', api);
    this.server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.faults.close();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
