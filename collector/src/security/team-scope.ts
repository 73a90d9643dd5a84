// What data a team scope covers. A team (collector.yaml chat.teams.<team>) owns its
// incidents (rules' labels.team), the logs of its `datasets`, and the chat messages of its
// channels (in its Slack workspace / Mattermost team). A principal scoped to teams — a
// team-scoped API token, or a chat user answered by ChatOps — sees that and nothing else;
// a scope that covers nothing matches nothing (fail closed).
import type { ChatConfig } from '../config.js';

/** Documents of the data streams of `dataset` (any namespace), by the index they are in: a field inside a document could be forged by whoever wrote it. */
export function inDataset(dataset: string): Record<string, unknown> {
  return { bool: { should: [{ prefix: { _index: `.ds-logs-${dataset}-` } }, { prefix: { _index: `logs-${dataset}-` } }], minimum_should_match: 1 } };
}

/**
 * An Elasticsearch filter clause for log and chat documents `teams` own. Each team's chat
 * must be pinned to its workspace (`workspace` set on every platform team: the caller fills
 * in the default Slack workspace and the Mattermost team), or a same-named channel elsewhere
 * would match; a platform team without one matches nothing.
 */
export function dataScope(teams: string[], chat: ChatConfig): Record<string, unknown> {
  const should: unknown[] = [];
  // Agents' logs: the team's datasets (the collector checked each event's dataset against its token).
  for (const d of new Set(teams.flatMap((t) => chat.teams[t]?.datasets ?? []))) should.push(inDataset(d));
  for (const t of teams) {
    const team = chat.teams[t];
    for (const platform of ['slack', 'mattermost'] as const) {
      const p = team?.[platform];
      if (!p?.workspace) continue;
      const channels = p.channels.map((c) => c.replace(/^#/, ''));
      // Chat messages only from the chat stream the collector writes itself (agents cannot write it).
      const filter: unknown[] = [
        inDataset('chat'),
        { term: { 'chat.platform': platform } },
        { bool: { should: [{ terms: { 'chat.channel.name': channels } }, { terms: { 'chat.channel.id': channels } }], minimum_should_match: 1 } },
        { bool: { should: [{ term: { 'chat.team.id': p.workspace } }, { term: { 'chat.team.name': p.workspace } }], minimum_should_match: 1 } },
      ];
      should.push({ bool: { filter } });
    }
  }
  return should.length ? { bool: { should, minimum_should_match: 1 } } : { match_none: {} };
}
