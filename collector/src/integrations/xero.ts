// Xero accounting context for triage (xero-node, Accounting API): the item behind a
// MISSING_PRICE / PRODUCT_NOT_FOUND (its sale price and description) and the status of the
// invoice behind a PAYMENT_FAILED. Custom-connection OAuth2 (client credentials): the token
// is fetched from token_url and fetched again shortly before it expires. Every failure is
// reported as a note — triage goes on without Xero.
import { XeroClient } from 'xero-node';
import type { Incident } from '@stacklens/detection';
import type { z } from 'zod';
import type { xeroSchema } from '../config.js';

/** integrations.xero as validated (config.ts is the one definition). */
export type XeroConfig = z.infer<typeof xeroSchema>;

export interface XeroContext {
  /** What Xero says, in one sentence for people and the LLM. */
  summary: string;
  item?: { code: string; name?: string; description?: string; unit_price?: number };
  invoice?: { number: string; status?: string; amount_due?: number; total?: number };
}

const ITEM_ERRORS = new Set(['MISSING_PRICE', 'PRODUCT_NOT_FOUND']);

export class Xero {
  private readonly client: XeroClient;
  private tokenExpiresAt = 0;
  /** The token request in flight, shared by concurrent triages. */
  private pendingToken?: Promise<void>;

  constructor(private readonly cfg: XeroConfig) {
    this.client = new XeroClient({ clientId: cfg.client_id, clientSecret: cfg.client_secret, grantType: 'client_credentials' });
    this.client.accountingApi.basePath = cfg.base_url.replace(/\/$/, '');
    // xero-node takes no request options but headers; its "default authentication" sees every
    // request's axios options before it is sent: the one place to give each a timeout, so a
    // Xero that never answers has its connection closed, not just abandoned.
    this.client.accountingApi.setDefaultAuthentication({
      applyToRequest: (options: { timeout?: number }) => {
        options.timeout = cfg.timeout;
      },
    } as never);
  }

  /** Context for this incident, undefined when Xero has nothing to say about its error type. */
  async contextFor(inc: Incident): Promise<XeroContext | undefined> {
    const sample = (inc.samples[0] ?? {}) as any;
    const errorType = String(sample.error?.type ?? inc.labels.error_type ?? '');
    if (ITEM_ERRORS.has(errorType) && sample.pos?.product_id !== undefined) return this.item(String(sample.pos.product_id), errorType);
    if (errorType === 'PAYMENT_FAILED' && sample.pos?.invoice_number) return this.invoice(String(sample.pos.invoice_number));
    return undefined;
  }

  private async item(code: string, errorType: string): Promise<XeroContext> {
    await this.authorize();
    const res = await this.deadline(this.client.accountingApi.getItems(this.cfg.tenant_id, undefined, `Code=="${code.replace(/"/g, '')}"`));
    // No "items" list is not "no such item": an unreadable answer must not become a false statement in a ticket.
    if (!Array.isArray(res?.body?.items)) throw new Error("Xero answered something that is not its API's JSON (no items list)");
    const item = res.body.items[0];
    if (!item) return { summary: `Xero has no item with code ${code}` };
    const price = item.salesDetails?.unitPrice;
    const pos = errorType === 'MISSING_PRICE' ? 'the POS master data has no price' : 'the POS catalogue does not know it';
    return {
      summary: `Xero lists item ${code} '${item.name ?? item.description ?? ''}'${price !== undefined ? ` at ${price.toFixed(2)}` : ' without a sale price'}; ${pos}`,
      item: { code, name: item.name, description: item.description, unit_price: price },
    };
  }

  private async invoice(number: string): Promise<XeroContext> {
    await this.authorize();
    const res = await this.deadline(this.client.accountingApi.getInvoices(this.cfg.tenant_id, undefined, `InvoiceNumber=="${number.replace(/"/g, '')}"`));
    if (!Array.isArray(res?.body?.invoices)) throw new Error("Xero answered something that is not its API's JSON (no invoices list)");
    const inv = res.body.invoices[0];
    if (!inv) return { summary: `Xero has no invoice ${number}` };
    return {
      summary: `Xero has invoice ${number} with status ${String(inv.status)}${inv.amountDue !== undefined ? `, ${inv.amountDue.toFixed(2)} due` : ''}`,
      invoice: { number, status: String(inv.status), amount_due: inv.amountDue, total: inv.total },
    };
  }

  /** Connection test: a token, then the organisation behind tenant_id. */
  async test(): Promise<string> {
    await this.authorize();
    const res = await this.deadline(this.client.accountingApi.getOrganisations(this.cfg.tenant_id));
    return `token obtained; organisation ${res.body.organisations?.[0]?.name ?? '(unnamed)'}`;
  }

  /** xero-node's calls take no timeout: a Xero that never answers must not hold a triage. */
  private deadline<T>(call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Xero timed out (no answer within ${this.cfg.timeout / 1000} s)`)), this.cfg.timeout);
    });
    call.catch(() => undefined); // its late failure, after the deadline, is nobody's
    return Promise.race([call, expired]).finally(() => clearTimeout(timer));
  }

  /** Client-credentials token from token_url, renewed a minute before it expires. */
  private async authorize(): Promise<void> {
    if (Date.now() < this.tokenExpiresAt - 60_000) return;
    this.pendingToken ??= this.fetchToken().finally(() => (this.pendingToken = undefined));
    return this.pendingToken;
  }

  private async fetchToken(): Promise<void> {
    const res = await fetch(this.cfg.token_url, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${this.cfg.client_id}:${this.cfg.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=accounting.transactions.read%20accounting.settings.read',
      signal: AbortSignal.timeout(this.cfg.timeout),
    });
    if (!res.ok) throw new Error(`Xero token request answered ${res.status}`);
    const token = (await res.json()) as { access_token: string; expires_in?: number; token_type?: string };
    this.client.setTokenSet({ access_token: token.access_token, token_type: token.token_type ?? 'Bearer', expires_in: token.expires_in } as never);
    this.tokenExpiresAt = Date.now() + (token.expires_in ?? 1800) * 1000;
  }
}

/** An error from xero-node, in words without secrets: its status, or its message. */
export function describeXeroError(err: unknown): string {
  let e = err as any;
  // xero-node rejects with a JSON string of the (redacted) response: read its status only —
  // the rest holds headers and bodies that have no place in a ticket.
  if (typeof e === 'string') {
    try {
      e = JSON.parse(e);
    } catch {
      return 'Xero request failed';
    }
  }
  const status = e?.response?.statusCode ?? e?.response?.status ?? e?.statusCode;
  if (status) return `Xero answered ${status}`;
  // Our own words (a deadline, an unreadable answer) say what happened already.
  if (typeof e?.message === 'string' && e.message.startsWith('Xero')) return e.message.slice(0, 200);
  if (e?.code) return `Xero unreachable: ${String(e.code)}`;
  return `Xero unreachable: ${String(e?.message ?? 'unknown error').slice(0, 200)}`;
}
