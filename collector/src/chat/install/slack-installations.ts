// Slack workspaces the app was installed in through OAuth (slack-install.ts): one document
// per workspace in stacklens-slack-installations, the bot token sealed (SecretBox, bound to
// the workspace: a sealed token copied to another workspace's document does not open).
// Every collector reads them into integrations.slack.workspaces (integration-settings.ts),
// so an installed workspace is one more workspace of the Slack integration; uninstalling
// (Slack's app_uninstalled / tokens_revoked events) deletes the document.
import type { Client } from '@elastic/elasticsearch';
import { INDICES } from '@stacklens/common';
import { isIndexMissing, isNotFound } from '@stacklens/elasticsearch';
import type { SecretBox } from '../../admin/secret-box.js';

export const SLACK_INSTALLATIONS_INDEX = INDICES.slackInstallations;
const sealContext = (team: string) => `slack-installation\u0000${team}\u0000bot_token`;

export interface SlackInstallation {
  team_id: string;
  team_name: string;
  bot_user_id?: string;
  scope?: string;
  installed_by?: string;
  installed_at: string;
}

export class SlackInstallations {
  constructor(
    private readonly es: Client,
    private readonly box: SecretBox,
  ) {}

  async save(install: SlackInstallation, botToken: string): Promise<void> {
    const doc = { ...install, sealed_bot_token: this.box.seal(botToken, sealContext(install.team_id)) };
    await this.es.index({ index: SLACK_INSTALLATIONS_INDEX, id: install.team_id, document: doc, refresh: 'wait_for' });
  }

  /** True when there was one to remove. */
  async remove(team: string): Promise<boolean> {
    try {
      await this.es.delete({ index: SLACK_INSTALLATIONS_INDEX, id: team, refresh: 'wait_for' });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async list(): Promise<SlackInstallation[]> {
    return (await this.read()).map(({ doc }) => doc);
  }

  /** Team id → bot token, of every installation whose token opens here (the others are named in `unreadable`). */
  async tokens(): Promise<{ workspaces: Record<string, { bot_token: string }>; unreadable: string[] }> {
    const workspaces: Record<string, { bot_token: string }> = {};
    const unreadable: string[] = [];
    for (const { id, sealed } of await this.read()) {
      try {
        workspaces[id] = { bot_token: this.box.open(sealed, sealContext(id)) };
      } catch {
        unreadable.push(`slack installation ${id}`);
      }
    }
    return { workspaces, unreadable };
  }

  private async read(): Promise<{ id: string; doc: SlackInstallation; sealed: string }[]> {
    try {
      const res: any = await this.es.search({ index: SLACK_INSTALLATIONS_INDEX, size: 1000, sort: [{ installed_at: 'asc' }] } as never);
      // The document's id is the workspace the token was sealed for, whatever the document says.
      return res.hits.hits.map((h: any) => {
        const { sealed_bot_token, ...doc } = h._source;
        return { id: h._id, doc: { ...doc, team_id: h._id }, sealed: sealed_bot_token };
      });
    } catch (err) {
      if (isIndexMissing(err)) return [];
      throw err;
    }
  }
}
