import { describe, expect, it } from 'vitest';
import { ACTION_TTL_SECONDS, ActionSigner } from './mattermost.js';

describe('Mattermost button contexts', () => {
  const t0 = Date.UTC(2025, 0, 1);
  let now = t0;
  const signer = new ActionSigner('key', () => now);

  it('carry incident, action, channel and expiry under one signature', () => {
    now = t0;
    const c = signer.context('inc1', 'ack', 'chan1');
    expect(c).toMatchObject({ incident_id: 'inc1', action: 'ack', channel_id: 'chan1', exp: t0 / 1000 + ACTION_TTL_SECONDS });
    expect(signer.check(c, 'chan1')).toBeUndefined();
    // Any field changed breaks the signature.
    for (const changed of [{ action: 'resolve' }, { incident_id: 'inc2' }, { channel_id: 'chan2' }, { exp: c.exp + 86_400 }, { sig: c.sig.replace(/.$/, '0') }]) {
      expect(signer.check({ ...c, ...changed }, changed.channel_id ?? 'chan1')).toBe('its context is not signed by this StackLens');
    }
    expect(new ActionSigner('another key', () => now).check(c, 'chan1')).toBe('its context is not signed by this StackLens');
    expect(signer.check({ incident_id: 'inc1', action: 'ack', sig: 'x' }, 'chan1')).toBe('its context is not signed by this StackLens'); // the older, unbound form
    expect(signer.check(undefined, 'chan1')).toBe('its context is not signed by this StackLens');
  });

  it('are refused in another channel, and after 7 days', () => {
    now = t0;
    const c = signer.context('inc1', 'ack', 'chan1');
    expect(signer.check(c, 'chan2')).toBe('this button belongs to an alert in another channel');
    now = t0 + ACTION_TTL_SECONDS * 1000;
    expect(signer.check(c, 'chan1')).toBeUndefined();
    now = t0 + ACTION_TTL_SECONDS * 1000 + 1000;
    expect(signer.check(c, 'chan1')).toMatch(/^this button expired at 2025-01-08T00:00:00.000Z .* use \/stacklens ack\|resolve inc1$/);
  });
});
