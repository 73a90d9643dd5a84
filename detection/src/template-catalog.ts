// The collector's message templates: one miner per dataset (templates/miner.ts), shared
// with every other collector through a store (stacklens-templates in Elasticsearch).
//
// Why a message gets the same template id on every collector and after a restart:
// - a template's id is a hash of its dataset and its *first* text, fixed at creation; its text
//   may generalize later (`Invalid user admin from <ip>` → `Invalid user <*> from <ip>`), its
//   id never changes;
// - at start a collector loads every stored template into its miners, ids kept;
// - before it creates a template, a collector reads what the others stored since its last
//   read (at most every `syncEveryMs`, 250 ms), so a message another collector already mined
//   matches that template instead of starting a second one; a template it creates is written
//   at once (refreshed, so the next reader sees it) before the events that carry its id are
//   indexed;
// - two collectors that create the same first text get the same id (it is a hash of it).
// What remains: two collectors that see a new kind of message within the same instant, with
// different first texts, may each create a template for it; both ids stay valid, and the
// generalized texts merge in the store (a position that differs becomes <*>).
//
// A store that cannot be reached never stops ingestion: events keep their ids, the writes
// wait and are retried at the next flush.
import { TemplateMiner, TemplateText, templateId, type KnownTemplate, type MinerOptions, type TemplateMatch } from './templates/index.js';
import { messageTemplate } from './template.js';

export interface StoredTemplate {
  id: string;
  dataset: string;
  template: string;
  count: number;
  first_seen: string;
  last_seen: string;
  examples?: string[];
}

/** What a collector learned about one template since its last flush. */
export interface TemplateChange {
  id: string;
  dataset: string;
  template: string;
  /** Events seen since the last flush. */
  count: number;
  first_seen: string;
  last_seen: string;
  /** A message that produced the template (kept in the store for people; at most a few). */
  example?: string;
}

export interface TemplateStore {
  /** Templates written since `sinceMs` (every one when undefined), and the store's newest write time. */
  changedSince(sinceMs: number | undefined): Promise<{ templates: StoredTemplate[]; newest: number | undefined }>;
  /**
   * Add counts, widen seen times, merge texts; creates the missing ones. `visible`: readable
   * by others when it returns. Resolves to the changes that were not written (to retry);
   * rejects when nothing could be.
   */
  write(changes: TemplateChange[], opts: { visible: boolean }): Promise<TemplateChange[]>;
}

export interface Assigned {
  /** "" when the event has no message. */
  id: string;
  template: string;
}

export interface CatalogOptions {
  miner?: Omit<MinerOptions, 'idFor'>;
  /** Templates learned per dataset; past it, new messages get an id from their masked text, unlearned (a flood of unique messages cannot fill memory). */
  maxTemplatesPerDataset?: number;
  /** How often the store is read for others' templates (and at most how often before a creation). */
  syncEveryMs?: number;
  now?: () => number;
}

const EXAMPLE_CHARS = 512;
const NONE: Assigned = { id: '', template: '' };

export class TemplateCatalog {
  private readonly miners = new Map<string, TemplateMiner>();
  /** What this collector saw of each template since its last write (kept only with a store). */
  private readonly tallies = new Map<string, Tally>();
  /** Templates created here and not written yet (written before assign returns). */
  private createdIds: string[] = [];
  private readonly maxPerDataset: number;
  private readonly syncEveryMs: number;
  private readonly now: () => number;
  private readonly minerOptions: CatalogOptions['miner'];
  /** Ids known per dataset (learned here or read from the store). */
  private readonly ids = new Map<string, Set<string>>();
  /** Store time of the newest template read; the next read asks from a little before it. */
  private newestRead: number | undefined;
  private lastSync = Number.NEGATIVE_INFINITY;
  private syncing: Promise<void> | undefined;
  /** Messages given an unlearned id because their dataset reached maxTemplatesPerDataset. */
  overflowed = 0;

  constructor(
    private readonly store: TemplateStore | undefined,
    opts: CatalogOptions = {},
  ) {
    this.maxPerDataset = opts.maxTemplatesPerDataset ?? 10_000;
    this.syncEveryMs = opts.syncEveryMs ?? 250;
    this.now = opts.now ?? Date.now;
    this.minerOptions = opts.miner;
  }

  /** A catalog that gives no event a template (collector.yaml message_templates.enabled: false). */
  static disabled(): TemplateCatalog {
    return new DisabledCatalog(undefined);
  }

  /** Read every stored template (at start). */
  async load(): Promise<void> {
    await this.sync(true);
  }

  /** Templates learned, per dataset. */
  size(dataset?: string): number {
    if (dataset !== undefined) return this.ids.get(dataset)?.size ?? 0;
    let n = 0;
    for (const v of this.ids.values()) n += v.size;
    return n;
  }

  /**
   * Each message's template (same order), learning from them. Reads the store first when a
   * message fits no known template and the last read is older than syncEveryMs; writes the
   * templates this creates before returning.
   */
  async assign(items: readonly { dataset: string; message: unknown }[]): Promise<Assigned[]> {
    if (this.store && this.now() - this.lastSync >= this.syncEveryMs && items.some((it) => this.isNew(it.dataset, it.message))) {
      await this.sync(false).catch(() => undefined);
    }
    const out = items.map((it) => this.assignOne(it.dataset, it.message));
    if (this.createdIds.length > 0) await this.writeCreated();
    return out;
  }

  /** A dataset's templates as they are now (texts generalized so far), with the events each had here. */
  templates(dataset: string): KnownTemplate[] {
    return this.miners.get(dataset)?.templates() ?? [];
  }

  /** One message's template at once, learning, without reading the store (offline replays, where there is none). */
  assignNow(dataset: string, message: unknown): Assigned {
    return this.assignOne(dataset, message);
  }

  /** Write counts and generalized texts (called every few seconds and at stop). */
  async flush(): Promise<void> {
    if (!this.store) return;
    await this.writeCreated();
    if (this.tallies.size === 0) return;
    const changes = this.take([...this.tallies.keys()]);
    let failed: TemplateChange[];
    try {
      failed = await this.store.write(changes, { visible: false });
    } catch (err) {
      this.putBack(changes);
      throw err;
    }
    this.putBack(failed);
    if (failed.length > 0) throw new Error(`${failed.length} of ${changes.length} template writes failed (kept for the next flush)`);
  }

  /** Read what other collectors wrote since the last read (called every few seconds). */
  async refresh(): Promise<void> {
    await this.sync(false);
  }

  /** The template a message would get, without learning (offline tools, tests). */
  peek(dataset: string, message: unknown): Assigned | undefined {
    const text = minable(message);
    if (text === undefined) return NONE;
    const m = this.miners.get(dataset)?.peek(text);
    return m ? { id: m.id, template: m.template } : undefined;
  }

  private isNew(dataset: string, message: unknown): boolean {
    const text = minable(message);
    return text !== undefined && this.miners.get(dataset)?.peek(text) === undefined;
  }

  private assignOne(dataset: string, message: unknown): Assigned {
    const text = minable(message);
    if (text === undefined) return NONE;
    const miner = this.minerFor(dataset);
    let m = (this.ids.get(dataset)?.size ?? 0) >= this.maxPerDataset ? miner.peek(text) : miner.match(text);
    if (m === undefined) {
      // Full: an id from the masked text, the same on every collector, not learned or stored.
      this.overflowed++;
      const template = text instanceof TemplateText ? text.text : messageTemplate(text);
      return { id: templateId(template, dataset), template };
    }
    if (m.created) this.known(dataset, m.id);
    if (this.store) this.tally(dataset, m, text);
    return { id: m.id, template: m.template };
  }

  /** Count an event for its template (numbers only: the hot path makes no strings). */
  private tally(dataset: string, m: TemplateMatch, source: string | TemplateText): void {
    const text = source instanceof TemplateText ? source.example : source;
    const now = this.now();
    let t = this.tallies.get(m.id);
    if (!t) {
      t = { dataset, template: m.template, count: 0, first: now, last: now, example: m.created ? text.slice(0, EXAMPLE_CHARS) : undefined };
      this.tallies.set(m.id, t);
    }
    t.count++;
    t.last = now;
    if (m.changed) t.template = m.template;
    if (m.created) this.createdIds.push(m.id);
  }

  /** These tallies as store changes, removed from the tallies. */
  private take(ids: readonly string[]): TemplateChange[] {
    const out: TemplateChange[] = [];
    for (const id of ids) {
      const t = this.tallies.get(id);
      if (!t) continue;
      this.tallies.delete(id);
      out.push({ id, dataset: t.dataset, template: t.template, count: t.count, first_seen: new Date(t.first).toISOString(), last_seen: new Date(t.last).toISOString(), ...(t.example ? { example: t.example } : {}) });
    }
    return out;
  }

  /** Changes that were not written: counted again at the next write. */
  private putBack(changes: readonly TemplateChange[]): void {
    for (const c of changes) {
      const first = Date.parse(c.first_seen);
      const last = Date.parse(c.last_seen);
      const t = this.tallies.get(c.id);
      if (!t) this.tallies.set(c.id, { dataset: c.dataset, template: c.template, count: c.count, first, last, example: c.example });
      else {
        t.count += c.count;
        t.first = Math.min(t.first, first);
        t.last = Math.max(t.last, last);
        t.example ??= c.example;
      }
    }
  }

  private minerFor(dataset: string): TemplateMiner {
    let miner = this.miners.get(dataset);
    if (!miner) {
      miner = new TemplateMiner({ ...this.minerOptions, idFor: (first) => templateId(first, dataset) });
      this.miners.set(dataset, miner);
    }
    return miner;
  }

  private known(dataset: string, id: string): void {
    let set = this.ids.get(dataset);
    if (!set) this.ids.set(dataset, (set = new Set()));
    set.add(id);
  }

  private async writeCreated(): Promise<void> {
    if (!this.store || this.createdIds.length === 0) return;
    const changes = this.take(this.createdIds);
    this.createdIds = [];
    // What is not written is kept for the next flush: the events carry the id whether or not the store has it yet.
    const failed = await this.store.write(changes, { visible: true }).catch(() => changes);
    this.putBack(failed);
  }

  private sync(all: boolean): Promise<void> {
    if (!this.store) return Promise.resolve();
    this.syncing ??= (async () => {
      try {
        // Counted from the attempt: a store that is down is asked again after syncEveryMs, not by every batch.
        this.lastSync = this.now();
        const { templates, newest } = await this.store!.changedSince(all ? undefined : this.newestRead);
        for (const t of templates) {
          this.minerFor(t.dataset).load([{ id: t.id, template: t.template, count: t.count }]);
          this.known(t.dataset, t.id);
        }
        if (newest !== undefined) this.newestRead = Math.max(this.newestRead ?? newest, newest);
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }
}

/** The fields an event carries its template in (stats.ts TEMPLATE_FIELD / TEMPLATE_TEXT_FIELD, under `stacklens`). */
export function templateFields(a: Assigned): { template_id: string; message_template: string } {
  return { template_id: a.id, message_template: a.template };
}

/** What a template is mined from: a non-empty string message, or a template already (an access line's; templates/access-template.ts). */
function minable(message: unknown): string | TemplateText | undefined {
  if (message instanceof TemplateText) return message;
  return typeof message === 'string' && NOT_BLANK.test(message) ? message : undefined;
}

const NOT_BLANK = /\S/;

interface Tally {
  dataset: string;
  template: string;
  count: number;
  /** Epoch ms. */
  first: number;
  last: number;
  example?: string;
}

/** Two changes of one template as one (the later text). */
export function mergeChange(into: TemplateChange, next: TemplateChange): void {
  into.count += next.count;
  into.template = next.template;
  if (next.last_seen > into.last_seen) into.last_seen = next.last_seen;
  if (next.first_seen < into.first_seen) into.first_seen = next.first_seen;
  into.example ??= next.example;
}

class DisabledCatalog extends TemplateCatalog {
  override async assign(items: readonly { dataset: string; message: unknown }[]): Promise<Assigned[]> {
    return items.map(() => NONE);
  }
}
