// Integrations configured at run time (the admin API), stored in stacklens-integrations with
// their credentials sealed (AES-256-GCM). The enabled integration of a type overrides the
// same section of collector.yaml; the notifier is reconfigured when they change (and every
// few seconds, so a change made through another collector applies here too).
import { randomUUID } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import type { ZodType } from 'zod';
import { jiraSchema, mattermostSchema, openaiSchema, slackSchema, xeroSchema } from '../config.js';
import type { SecretBox } from './secret-box.js';
import { isIndexMissing, isNotFound, sourceOf } from '../es-errors.js';

export const INTEGRATIONS_INDEX = 'stacklens-integrations';

export const INTEGRATION_TYPES: Record<string, { schema: ZodType<any>; secrets: string[] }> = {
  jira: { schema: jiraSchema, secrets: ['api_token'] },
  openai: { schema: openaiSchema, secrets: ['api_key'] },
  xero: { schema: xeroSchema, secrets: ['client_secret'] },
  // Webhook URLs carry their credential in the path; workspaces hold bot tokens.
  slack: { schema: slackSchema, secrets: ['bot_token', 'signing_secret', 'webhook_url', 'workspaces'] },
  mattermost: { schema: mattermostSchema, secrets: ['token', 'command_token', 'webhook_url'] },
};

/** Structured secrets (Slack's workspaces) are sealed as JSON behind a marker no token contains. */
const JSON_MARK = '\u0000json:';
const sealable = (v: unknown) => (typeof v === 'string' ? v : JSON_MARK + JSON.stringify(v));
const unsealed = (s: string): unknown => (s.startsWith(JSON_MARK) ? JSON.parse(s.slice(JSON_MARK.length)) : s);

export interface StoredIntegration {
  id: string;
  type: string;
  name: string;
  enabled: boolean;
  /** Non-secret settings. */
  settings: Record<string, unknown>;
  /** Secret settings, sealed. Never returned by the API. */
  sealed: Record<string, string>;
  last_test?: { ok: boolean; at: string; message: string };
  created_at: string;
  updated_at: string;
}

/** What the API shows: the settings, which secrets are set — never their values. */
export function publicView(i: StoredIntegration) {
  const { sealed, ...rest } = i;
  return { ...rest, secrets_set: Object.keys(sealed).sort() };
}

export class IntegrationError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export class IntegrationStore {
  constructor(
    private readonly client: Client,
    private readonly box: SecretBox,
  ) {}

  async list(): Promise<StoredIntegration[]> {
    try {
      const res: any = await this.client.search({ index: INTEGRATIONS_INDEX, size: 100, sort: [{ created_at: 'asc' }] } as never);
      return res.hits.hits.map((h: any) => h._source);
    } catch (err) {
      if (isIndexMissing(err)) return [];
      throw err;
    }
  }

  get(id: string): Promise<StoredIntegration | undefined> {
    return sourceOf<StoredIntegration>(this.client, INTEGRATIONS_INDEX, id);
  }

  /** Validate settings against the type's schema; secrets left out keep their stored value. */
  private build(type: string, settings: unknown, previous?: StoredIntegration): { settings: Record<string, unknown>; sealed: Record<string, string> } {
    // Own keys only: "__proto__" or "constructor" must be an unknown type, not Object's members.
    const def = Object.hasOwn(INTEGRATION_TYPES, type) ? INTEGRATION_TYPES[type] : undefined;
    if (!def) throw new IntegrationError(`type: must be one of ${Object.keys(INTEGRATION_TYPES).join(', ')}`);
    if (settings === null || typeof settings !== 'object' || Array.isArray(settings)) throw new IntegrationError('settings: must be an object');
    const merged: Record<string, unknown> = { ...(settings as Record<string, unknown>) };
    for (const key of def.secrets) {
      if (merged[key] === undefined && previous?.sealed[key]) merged[key] = unsealed(this.openStored(previous.sealed[key], key));
    }
    const checked = def.schema.safeParse(merged);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      // The message names the key; it never echoes the value (it may be a secret).
      throw new IntegrationError(`settings.${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    }
    const plain: Record<string, unknown> = {};
    const sealed: Record<string, string> = {};
    for (const [key, value] of Object.entries(checked.data as Record<string, unknown>)) {
      if (def.secrets.includes(key)) sealed[key] = this.box.seal(sealable(value));
      else plain[key] = value;
    }
    return { settings: plain, sealed };
  }

  async create(body: any): Promise<StoredIntegration> {
    const now = new Date().toISOString();
    const type = String(body?.type ?? '');
    const built = this.build(type, body?.settings);
    const doc: StoredIntegration = { id: randomUUID(), type, name: String(body?.name ?? type), enabled: body?.enabled !== false, ...built, created_at: now, updated_at: now };
    await this.client.create({ index: INTEGRATIONS_INDEX, id: doc.id, document: doc, refresh: 'wait_for' });
    return doc;
  }

  async update(id: string, change: (current: StoredIntegration) => StoredIntegration | Promise<StoredIntegration>): Promise<StoredIntegration> {
    const current = await this.get(id);
    if (!current) throw new IntegrationError(`no integration ${id}`, 404);
    const next = await change(structuredClone(current));
    next.updated_at = new Date().toISOString();
    await this.client.index({ index: INTEGRATIONS_INDEX, id, document: next, refresh: 'wait_for' });
    return next;
  }

  replace(id: string, body: any): Promise<StoredIntegration> {
    return this.update(id, (cur) => {
      const built = this.build(cur.type, body?.settings ?? {}, cur);
      return { ...cur, ...built, name: body?.name === undefined ? cur.name : String(body.name), enabled: body?.enabled === undefined ? cur.enabled : Boolean(body.enabled) };
    });
  }

  async remove(id: string): Promise<boolean> {
    try {
      await this.client.delete({ index: INTEGRATIONS_INDEX, id, refresh: 'wait_for' });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** A stored secret, or a 409 naming the key to supply again when it was sealed under another STACKLENS_SECRET_KEY. */
  private openStored(sealed: string, key: string): string {
    try {
      return this.box.open(sealed);
    } catch {
      throw new IntegrationError(`settings.${key}: the stored value cannot be opened with the current STACKLENS_SECRET_KEY (was the key changed?); supply ${key} again`, 409);
    }
  }

  /** Full settings (secrets opened) of an integration, for the product to use. */
  resolve(i: StoredIntegration): Record<string, unknown> {
    const out: Record<string, unknown> = { ...i.settings };
    for (const [key, value] of Object.entries(i.sealed)) out[key] = unsealed(this.box.open(value));
    return out;
  }

  /**
   * Per type, the settings of the most recently updated enabled integration. One whose
   * secrets cannot be opened (sealed under another STACKLENS_SECRET_KEY) is skipped and named.
   */
  async active(): Promise<{ settings: Record<string, Record<string, unknown>>; unreadable: string[] }> {
    const settings: Record<string, Record<string, unknown>> = {};
    const unreadable: string[] = [];
    const enabled = (await this.list()).filter((i) => i.enabled).sort((a, b) => a.updated_at.localeCompare(b.updated_at));
    for (const i of enabled) {
      try {
        settings[i.type] = this.resolve(i);
      } catch {
        unreadable.push(i.id);
      }
    }
    return { settings, unreadable };
  }
}
