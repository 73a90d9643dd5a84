// Integrations configured at run time (the admin API), stored in stacklens-integrations with
// their credentials sealed (AES-256-GCM). The enabled integration of a type overrides the
// same section of collector.yaml; the notifier is reconfigured when they change (and every
// few seconds, so a change made through another collector applies here too).
//
// Two rules keep secrets write-only (issue #14):
// - each secret is sealed for its integration id and field (sealContext), so a sealed value
//   copied elsewhere in the index does not open;
// - stored secrets never follow a new destination: a change of any URL-valued setting must
//   supply every stored secret again (update() refuses it otherwise), as Grafana and GitHub
//   do with their secure fields. Otherwise an admin token alone could redirect a stored
//   credential to an address of its choosing and read it there.
import { randomUUID } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import type { ZodType } from 'zod';
import { DESTINATION_KEYS, INTEGRATIONS } from '../integrations/descriptors/index.js';
import { SealError, type SecretBox } from './secret-box.js';
import { isIndexMissing, isNotFound, sourceOf } from '@stacklens/elasticsearch';
import { INDICES } from '@stacklens/common';

export const INTEGRATIONS_INDEX = INDICES.integrations;

/** The types the API accepts, from the integration descriptors: each one's schema and secret keys. */
export const INTEGRATION_TYPES: Record<string, { schema: ZodType<any>; secrets: readonly string[] }> = Object.fromEntries(
  INTEGRATIONS.map((d) => [d.type, { schema: d.configSchema as ZodType<any>, secrets: d.secretKeys }]),
);

/** Structured secrets (Slack's workspaces) are sealed as JSON behind a marker no token contains. */
const JSON_MARK = '\u0000json:';
const sealable = (v: unknown) => (typeof v === 'string' ? v : JSON_MARK + JSON.stringify(v));
const unsealed = (s: string): unknown => (s.startsWith(JSON_MARK) ? JSON.parse(s.slice(JSON_MARK.length)) : s);

/** The context a secret is sealed for: which integration, which field ("workspaces" is one sealed JSON value). */
export const sealContext = (id: string, field: string) => `${id}\u0000${field}`;

// Keys that say where an integration connects (DESTINATION_KEYS, from the descriptors), whatever their value; any http(s) URL value counts too.
const isHttpUrl = (v: unknown) => typeof v === 'string' && /^\s*https?:\/\//i.test(v);

/** Every destination of a settings object by dotted path, nested objects included. */
export function destinations(settings: Record<string, unknown>, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(settings)) {
    const path = prefix + key;
    if (value !== null && typeof value === 'object') for (const [p, v] of destinations(value as Record<string, unknown>, `${path}.`)) out.set(p, v);
    else if (value !== undefined && (DESTINATION_KEYS.has(key) || isHttpUrl(value))) out.set(path, String(value));
  }
  return out;
}

/** Destinations new in `after`: added or changed (one removed sends nothing anywhere). */
export function movedDestinations(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const old = destinations(before);
  return [...destinations(after)].filter(([path, value]) => old.get(path) !== value).map(([path]) => path);
}

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
      // The document's own id, not the one written in it: secrets are bound to where they are stored.
      return res.hits.hits.map((h: any) => ({ ...h._source, id: h._id }));
    } catch (err) {
      if (isIndexMissing(err)) return [];
      throw err;
    }
  }

  async get(id: string): Promise<StoredIntegration | undefined> {
    const doc = await sourceOf<StoredIntegration>(this.client, INTEGRATIONS_INDEX, id);
    return doc && { ...doc, id };
  }

  /**
   * Validate settings against the type's schema. Secrets left out keep their stored sealed
   * value as is (so update() can tell them from secrets supplied again); supplied ones are
   * sealed for this integration and field.
   */
  private build(id: string, type: string, settings: unknown, previous?: StoredIntegration): { settings: Record<string, unknown>; sealed: Record<string, string> } {
    // Own keys only: "__proto__" or "constructor" must be an unknown type, not Object's members.
    const def = Object.hasOwn(INTEGRATION_TYPES, type) ? INTEGRATION_TYPES[type] : undefined;
    if (!def) throw new IntegrationError(`type: must be one of ${Object.keys(INTEGRATION_TYPES).join(', ')}`);
    if (settings === null || typeof settings !== 'object' || Array.isArray(settings)) throw new IntegrationError('settings: must be an object');
    const given = settings as Record<string, unknown>;
    const kept = (key: string) => given[key] === undefined && previous?.sealed[key] !== undefined;
    const merged: Record<string, unknown> = { ...given };
    // Opened only to validate the whole (a refine may need one of them).
    for (const key of def.secrets) if (kept(key)) merged[key] = unsealed(this.openField(previous!, key));
    const checked = def.schema.safeParse(merged);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      // The message names the key; it never echoes the value (it may be a secret).
      throw new IntegrationError(`settings.${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    }
    const plain: Record<string, unknown> = {};
    const sealed: Record<string, string> = {};
    for (const [key, value] of Object.entries(checked.data as Record<string, unknown>)) {
      if (!def.secrets.includes(key)) plain[key] = value;
      else sealed[key] = kept(key) ? previous!.sealed[key] : this.box.seal(sealable(value), sealContext(id, key));
    }
    return { settings: plain, sealed };
  }

  async create(body: any): Promise<StoredIntegration> {
    const now = new Date().toISOString();
    const type = String(body?.type ?? '');
    const id = randomUUID();
    const built = this.build(id, type, body?.settings);
    const doc: StoredIntegration = { id, type, name: String(body?.name ?? type), enabled: body?.enabled !== false, ...built, created_at: now, updated_at: now };
    await this.client.create({ index: INTEGRATIONS_INDEX, id: doc.id, document: doc, refresh: 'wait_for' });
    return doc;
  }

  async update(id: string, change: (current: StoredIntegration) => StoredIntegration | Promise<StoredIntegration>): Promise<StoredIntegration> {
    const current = await this.get(id);
    if (!current) throw new IntegrationError(`no integration ${id}`, 404);
    const next = { ...(await change(structuredClone(current))), id };
    this.refuseMovedSecrets(current, next);
    next.updated_at = new Date().toISOString();
    await this.client.index({ index: INTEGRATIONS_INDEX, id, document: next, refresh: 'wait_for' });
    return next;
  }

  replace(id: string, body: any): Promise<StoredIntegration> {
    return this.update(id, (cur) => {
      const built = this.build(cur.id, cur.type, body?.settings ?? {}, cur);
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

  /**
   * Every update path passes here: when a destination (a URL-valued setting, secrets such as
   * webhook_url included) is new, each stored secret must have been supplied again — its sealed
   * text changed. A secret kept as it was would be sent to the new address: refused, nothing stored.
   */
  private refuseMovedSecrets(current: StoredIntegration, next: StoredIntegration): void {
    const moved = movedDestinations(this.comparable(current), this.comparable(next));
    if (moved.length === 0) return;
    const kept = Object.keys(current.sealed).filter((k) => next.sealed[k] !== undefined && next.sealed[k] === current.sealed[k]).sort();
    if (kept.length === 0) return;
    throw new IntegrationError(`changing ${moved.map((p) => `settings.${p}`).join(', ')} needs every stored secret supplied again (stored secrets never follow a new destination): supply ${kept.join(', ')}`);
  }

  /** Settings and opened secrets, to compare destinations; a secret that does not open stands for its sealed text. */
  private comparable(i: StoredIntegration): Record<string, unknown> {
    const out: Record<string, unknown> = { ...i.settings };
    for (const [key, value] of Object.entries(i.sealed)) {
      try {
        out[key] = unsealed(this.box.open(value, sealContext(i.id, key)));
      } catch {
        out[key] = `sealed:${value}`;
      }
    }
    return out;
  }

  /** A stored secret of this integration, or a 409 naming the key to supply again (another key, moved, or the old unbound format). */
  private openField(i: StoredIntegration, key: string): string {
    try {
      return this.box.open(i.sealed[key], sealContext(i.id, key));
    } catch (err) {
      throw new IntegrationError(`settings.${key}: the stored ${err instanceof SealError ? err.reason : 'value does not open'}; supply ${key} again`, 409);
    }
  }

  /** The secrets of an integration that do not open here (empty when all do). */
  unreadable(i: StoredIntegration): string[] {
    return Object.keys(i.sealed).filter((key) => {
      try {
        this.openField(i, key);
        return false;
      } catch {
        return true;
      }
    });
  }

  /** Full settings (secrets opened) of an integration, for the product to use; a 409 IntegrationError when one does not open. */
  resolve(i: StoredIntegration): Record<string, unknown> {
    const out: Record<string, unknown> = { ...i.settings };
    for (const key of Object.keys(i.sealed)) out[key] = unsealed(this.openField(i, key));
    return out;
  }

  /**
   * Per type, the settings of the most recently updated enabled integration. One whose
   * secrets cannot be opened (another STACKLENS_SECRET_KEY, a value moved from another
   * integration or field, the old unbound format) is skipped and named.
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
