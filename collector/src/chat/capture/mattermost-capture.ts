// Capturing Mattermost messages follows the integration's settings: (re)started when they
// change, stopped when capture is off or the collector stops.
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from '@stacklens/common';
import type { MattermostConfig } from '../../config.js';
import type { ChatStore } from './chat-store.js';
import { MattermostIngest } from './mattermost-ingest.js';

export class MattermostCapture {
  private running?: MattermostIngest;
  private key = '';
  private stopped = false;

  constructor(
    private readonly store: ChatStore,
    private readonly es: Client,
    private readonly log: Logger,
  ) {}

  follow(cfg: MattermostConfig | undefined): void {
    const key = JSON.stringify(cfg ?? null);
    if (key === this.key) return;
    this.key = key;
    this.running?.stop();
    this.running = undefined;
    if (!cfg?.token || !cfg.index_messages || this.stopped) return;
    const ingest = new MattermostIngest(cfg, this.store, this.es, this.log);
    this.running = ingest;
    void ingest.start().catch((err) => this.log.error({ err: (err as Error).message }, 'Mattermost capture stopped'));
  }

  stop(): void {
    this.stopped = true;
    this.running?.stop();
  }
}
