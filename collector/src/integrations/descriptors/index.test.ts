// The integration list drives config, admin API, capabilities and notify targets: they agree.
import { describe, expect, it } from 'vitest';
import { NOTIFY_TARGETS, ruleSchema } from '@stacklens/detection';
import { DESTINATION_KEYS, INTEGRATIONS, capabilitiesOf, integration, integrationsSchema, notifyTargets } from './index.js';
import { INTEGRATION_TYPES } from '../../admin/integrations.js';

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
    expect([...DESTINATION_KEYS].sort()).toEqual(['api_url', 'base_url', 'callback_url', 'token_url', 'url', 'webhook_url']);
  });

  it('capabilities come from each configured descriptor', () => {
    expect(capabilitiesOf({})).toEqual([]);
    expect(capabilitiesOf({ openai: {} })).toEqual(['llm']);
  });
});
