// Which integrations run: collector.yaml's, each overridden by the enabled one of its type
// stored through the admin API (read again every 10 s and after every change). The stored
// settings are parsed with the same schemas as collector.yaml, so what runs is always a
// validated configuration; one that does not parse, or whose secrets cannot be opened, is
// skipped with a warning and collector.yaml's stays in effect.
import type { Logger } from '@stacklens/common';
import type { CollectorConfig } from '../config.js';
import { SECRET_KEY_ENV } from '../admin/secret-box.js';
import type { IntegrationStore } from '../admin/integrations.js';
import type { NotifierConfig } from './notifier.js';
import { INTEGRATIONS, integration, type IntegrationConfigs, type IntegrationType } from './descriptors/index.js';

export class IntegrationSettings {
  private applied = '';
  private warned = '';
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: Pick<CollectorConfig, 'integrations' | 'chat' | 'outbox'>,
    /** The run-time store, or why there is none (no STACKLENS_SECRET_KEY): collector.yaml alone then. */
    private readonly store: IntegrationStore | string,
    private readonly log: Logger,
    /** Called with the new configuration whenever it changes (the clients are rebuilt then, not before). */
    private readonly onChange: (cfg: NotifierConfig) => void,
    /** Slack workspaces installed through OAuth (chat/install): more workspaces of the Slack integration. */
    private readonly installed?: () => Promise<{ workspaces: Record<string, { bot_token: string }>; unreadable: string[] }>,
  ) {}

  /** collector.yaml's integrations alone: what runs until the store has been read. */
  fromFile(): NotifierConfig {
    return this.merge({});
  }

  /** Read the store and apply what changed. Calls are queued, so an older read never overwrites a newer one. */
  refresh(): Promise<void> {
    this.queue = this.queue.then(() => this.read());
    return this.queue;
  }

  private async read(): Promise<void> {
    try {
      const { settings, unreadable } = typeof this.store === 'string' ? { settings: {}, unreadable: [] } : await this.store.active();
      const active: Partial<Record<IntegrationType, unknown>> = {};
      for (const [type, raw] of Object.entries(settings)) {
        const parsed = integration(type)?.configSchema.safeParse(raw);
        if (parsed?.success) active[type as IntegrationType] = parsed.data;
        else unreadable.push(`${type} (its settings no longer validate)`);
      }
      const installed = this.installed ? await this.installed() : { workspaces: {}, unreadable: [] };
      unreadable.push(...installed.unreadable);
      this.warnOnce(unreadable);
      const cfg = this.merge(active, installed.workspaces);
      // Rebuild the clients only when something changed (they keep tokens and connections).
      const fingerprint = JSON.stringify(cfg);
      if (fingerprint === this.applied) return;
      this.applied = fingerprint;
      this.onChange(cfg);
      this.log.info(Object.fromEntries(INTEGRATIONS.map((d) => [d.type, Boolean(cfg[d.type])])), 'integrations configured');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not read integrations; keeping the current ones');
    }
  }

  private warnOnce(unreadable: string[]): void {
    const key = unreadable.join(',');
    if (key === this.warned) return;
    this.warned = key;
    if (unreadable.length) this.log.warn({ integrations: unreadable }, `enabled integrations whose credentials cannot be opened are skipped (sealed with another ${SECRET_KEY_ENV}, moved from another integration or field, or stored by an older version): store their secrets again or disable them`);
  }

  private merge(active: Partial<Record<IntegrationType, unknown>>, installed: Record<string, { bot_token: string }> = {}): NotifierConfig {
    const file = this.config.integrations;
    // Per type, the stored (admin API) settings win over collector.yaml's.
    const chosen: Record<string, unknown> = {};
    for (const d of INTEGRATIONS) chosen[d.type] = active[d.type] ?? file[d.type];
    // Installed workspaces join the Slack integration's; a workspace configured by hand wins.
    const slack = chosen.slack as { workspaces?: Record<string, { bot_token: string }> } | undefined;
    if (slack && Object.keys(installed).length) chosen.slack = { ...slack, workspaces: { ...installed, ...slack.workspaces } };
    return {
      ...(chosen as IntegrationConfigs),
      chat: this.config.chat,
      retryBudgetMs: this.config.outbox.retry_budget,
    };
  }
}
