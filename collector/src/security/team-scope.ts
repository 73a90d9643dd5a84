// What data a team scope covers. A team (collector.yaml chat.teams.<team>) owns its
// incidents (rules' labels.team), the logs of its `datasets`, and the chat messages of its
// channels (in its Slack workspace / Mattermost team). A principal scoped to teams — a
// team-scoped API token, or a chat user answered by ChatOps — sees that and nothing else;
// a scope that covers nothing matches nothing (fail closed).
import type { ChatConfig } from '../config.js';

/** An Elasticsearch filter clause for log and chat documents `teams` own. */
export function dataScope(teams: string[], chat: ChatConfig): Record<string, unknown> {
  const should: unknown[] = [];
  const datasets = teams.flatMap((t) => chat.teams[t]?.datasets ?? []);
  if (datasets.length) should.push({ terms: { 'event.dataset': datasets } });
  for (const t of teams) {
    const team = chat.teams[t];
    for (const platform of ['slack', 'mattermost'] as const) {
      const p = team?.[platform];
      if (!p) continue;
      const channels = p.channels.map((c) => c.replace(/^#/, ''));
      const filter: unknown[] = [{ term: { 'chat.platform': platform } }, { bool: { should: [{ terms: { 'chat.channel.name': channels } }, { terms: { 'chat.channel.id': channels } }], minimum_should_match: 1 } }];
      if (p.workspace) filter.push({ bool: { should: [{ term: { 'chat.team.id': p.workspace } }, { term: { 'chat.team.name': p.workspace } }], minimum_should_match: 1 } });
      should.push({ bool: { filter } });
    }
  }
  return should.length ? { bool: { should, minimum_should_match: 1 } } : { match_none: {} };
}
