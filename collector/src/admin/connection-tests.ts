// "Test connection" of the integrations API: one cheap authenticated call per service, with
// the integration's full settings; the answer says who we are connected as.
import { WebClient } from '@slack/web-api';
import type { MattermostConfig, SlackConfig } from '../config.js';
import { Jira, type JiraConfig } from '../integrations/jira.js';
import { Xero, type XeroConfig } from '../integrations/xero.js';
import { testOpenAi, type OpenAiConfig } from '../integrations/triage.js';
import { mattermostClient } from '../chat/mattermost.js';

/** Connection test of one integration, with its full settings. */
export async function testIntegration(type: string, settings: Record<string, unknown>): Promise<string> {
  switch (type) {
    case 'jira':
      return new Jira(settings as unknown as JiraConfig).test();
    case 'openai':
      return testOpenAi(settings as unknown as OpenAiConfig);
    case 'xero':
      return new Xero(settings as unknown as XeroConfig).test();
    case 'slack': {
      const s = settings as unknown as SlackConfig;
      if (!s.bot_token) return 'incoming-webhook mode: nothing to test without posting';
      const who = await new WebClient(s.bot_token, { slackApiUrl: s.api_url, retryConfig: { retries: 0 } }).auth.test();
      return `Slack: connected to ${who.team ?? who.team_id} as ${who.user ?? who.user_id}`;
    }
    case 'mattermost': {
      const m = settings as unknown as MattermostConfig;
      if (!m.token) return 'incoming-webhook mode: nothing to test without posting';
      const client = mattermostClient(m);
      const me = await client.getMe();
      const team = await client.getTeamByName(m.team);
      return `Mattermost: connected as ${me.username}, team ${team.display_name || team.name}`;
    }
    default:
      throw new Error(`no connection test for ${type}`);
  }
}
