// What the chat platforms themselves say about the workspaces and channels chat.teams
// configures, for alerts/routing.ts's membership checks: the default Slack workspace's id (from the
// default bot token), the Mattermost team's id, channel ids from channel names. Answers come
// from the current senders (the notifier rebuilds them when integrations change), which
// cache them. A lookup that fails is "unknown", never "anyone".
import type { Logger } from '@stacklens/common';
import type { ChatPlatform } from '../capture/chat-store.js';
import type { ChatDirectory } from '../alerts/routing.js';
import type { SlackSender } from '../alerts/slack.js';
import type { MattermostSender } from '../alerts/mattermost.js';

export interface DirectorySources {
  slack?: SlackSender;
  mattermost?: MattermostSender;
  /** integrations.mattermost.team, when Mattermost is configured. */
  mattermostTeam?: string;
}

export class PlatformDirectory implements ChatDirectory {
  constructor(
    private readonly sources: () => DirectorySources,
    private readonly log?: Logger,
  ) {}

  async slackDefaultWorkspace(): Promise<string | undefined> {
    try {
      return await this.sources().slack?.defaultWorkspaceId();
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'cannot learn the default Slack workspace (auth.test); chat actions of teams without a workspace are refused meanwhile');
      return undefined;
    }
  }

  async mattermostTeam(): Promise<{ name: string; id?: string } | undefined> {
    const s = this.sources();
    if (!s.mattermostTeam) return undefined;
    try {
      return { name: s.mattermostTeam, id: await s.mattermost?.teamId() };
    } catch (err) {
      // The team name Mattermost sends with each request is compared instead.
      this.log?.warn({ team: s.mattermostTeam, err: (err as Error).message }, 'cannot look up the Mattermost team id');
      return { name: s.mattermostTeam };
    }
  }

  async channelId(platform: ChatPlatform, workspace: string, channel: string): Promise<string | undefined | null> {
    const s = this.sources();
    try {
      if (platform === 'slack') return s.slack ? await s.slack.channelIdOf(workspace, channel) : null;
      return s.mattermost ? await s.mattermost.channelIdOf(channel) : null;
    } catch (err) {
      this.log?.warn({ platform, channel, err: (err as Error).message }, 'cannot look up a chat channel id');
      return null;
    }
  }
}
