// The integration list drives config, admin API, capabilities and notify targets: they agree.
import { describe, expect, it } from 'vitest';
import { NOTIFY_TARGETS, ruleSchema } from '@stacklens/detection';
import { CHAT_PLATFORMS, DESTINATION_KEYS, INTEGRATIONS, capabilitiesOf, integration, integrationsSchema, notifyTargets } from './index.js';
import { INTEGRATION_TYPES } from '../../admin/integrations.js';
import { chatAlertsConfig } from '../../chat/alerts/alerts.js';
import { SlackSender } from '../../chat/alerts/slack.js';
import { MattermostSender } from '../../chat/alerts/mattermost.js';
import { WebhookSender } from '../../chat/alerts/webhook.js';

describe('integration descriptors', () => {
  it('each type once, found by name (own names only)', () => {
    const types = INTEGRATIONS.map((d) => d.type);
    expect(new Set(types).size).toBe(types.length);
    for (const t of types) expect(integration(t)?.type).toBe(t);
    expect(integration('__proto__')).toBeUndefined();
    expect(integration('constructor')).toBeUndefined();
  });

  it('the rule schema accepts exactly the notify targets the descriptors declare', () => {
    expect(Object.keys(NOTIFY_TARGETS).sort()).toEqual(notifyTargets().sort());
    for (const d of INTEGRATIONS) {
      const n = (d as { notify?: { channels: boolean } }).notify;
      if (n) expect(NOTIFY_TARGETS[d.type]).toBe(n.channels);
    }
    const rule = (notify: string[]) => ruleSchema.safeParse({ name: 'r', severity: 'high', dataset: 'pos', type: 'any', notify }).success;
    for (const t of notifyTargets()) expect(rule([t])).toBe(true);
    expect(rule(['pagerduty'])).toBe(false);
  });

  it('collector.yaml, the admin API and the secrets read the same list', () => {
    expect(Object.keys(integrationsSchema.unwrap().shape)).toEqual(INTEGRATIONS.map((d) => d.type));
    expect(Object.keys(INTEGRATION_TYPES)).toEqual(INTEGRATIONS.map((d) => d.type));
    for (const d of INTEGRATIONS) for (const key of [...d.secretKeys, ...(d.destinationKeys ?? [])]) expect(Object.keys((d.configSchema as any).shape ?? (d.configSchema as any).def?.in?.shape ?? {})).toContain(key);
    expect([...DESTINATION_KEYS].sort()).toEqual(['api_url', 'base_url', 'callback_url', 'host', 'token_url', 'url', 'webhook_url']);
  });

  it('capabilities come from each configured descriptor', () => {
    expect(capabilitiesOf({})).toEqual([]);
    expect(capabilitiesOf({ openai: {} })).toEqual(['llm']);
  });

  it('chat platforms are the types with chatAlerts, and each builds its own sender (bot or webhook)', () => {
    expect(CHAT_PLATFORMS).toEqual(INTEGRATIONS.filter((d) => 'chatAlerts' in d).map((d) => d.type));
    expect([...CHAT_PLATFORMS].sort()).toEqual(['mattermost', 'slack', 'teams']);
    const log = { warn: () => undefined, info: () => undefined, debug: () => undefined, error: () => undefined, child: () => log } as never;
    const chat = { answer_within: 2500, teams: {} };
    const build = (cfg: Record<string, unknown>) => chatAlertsConfig({ chat, ...(integrationsSchema.parse(cfg) as object) }, log, () => () => undefined);
    const bots = build({ slack: { bot_token: 'xoxb-1' }, mattermost: { url: 'http://mm.local', token: 't', team: 'ops' } });
    expect(bots.senders.slack).toBeInstanceOf(SlackSender);
    expect(bots.senders.mattermost).toBeInstanceOf(MattermostSender);
    expect(bots.defaults).toEqual({ slack: '#oncall', mattermost: 'oncall' });
    const hooks = build({ slack: { webhook_url: 'http://hooks.local/s' }, mattermost: { url: 'http://mm.local', team: 'ops', webhook_url: 'http://hooks.local/m' }, teams: { webhook_url: 'http://hooks.local/t' } });
    for (const p of CHAT_PLATFORMS) {
      expect(hooks.senders[p]).toBeInstanceOf(WebhookSender);
      expect(hooks.senders[p]!.platform).toBe(p);
    }
    expect(hooks.defaults).toEqual({ slack: '#oncall', mattermost: 'oncall', teams: 'teams' });
    expect(build({}).senders).toEqual({});
  });
});
