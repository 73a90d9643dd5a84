import { describe, expect, it } from 'vitest';
import { Redactor, REDACT_DEFAULTS } from '@stacklens/common';
import { redactFields } from './redact-fields.js';

describe('redactFields', () => {
  it('masks secret-named keys whole, card numbers in strings and numbers; leaves epochs and ids alone', () => {
    const r = new Redactor(REDACT_DEFAULTS);
    const doc: Record<string, unknown> = {
      '@timestamp': 1497039058810,
      order: { id: 'ORD-1234567890123', card: '4111 1111 1111 1111', pan: 4111111111111111 },
      db_password: 'hunter2',
      apiKey: 'abc',
      nested: { client_secret: 's3cr3t', note: 'paid with 5555555555554444' },
    };
    redactFields(r, doc, true, true);
    expect(doc).toEqual({
      '@timestamp': 1497039058810,
      order: { id: 'ORD-1234567890123', card: '[REDACTED-CARD-1111]', pan: '[REDACTED-CARD-1111]' },
      db_password: '[REDACTED]',
      apiKey: '[REDACTED]',
      nested: { client_secret: '[REDACTED]', note: 'paid with [REDACTED-CARD-4444]' },
    });
    expect(r.counts.card_numbers).toBe(3);
  });

  it('knows a secret key however it is spelled, and masks its value whatever its type (found by an outside tester)', () => {
    const r = new Redactor(REDACT_DEFAULTS);
    const secret = ['hunter2', 'CANARY'].join('-');
    const doc: Record<string, unknown> = {
      userPassword: secret,
      'X-Auth-Token': secret,
      'api.key': secret,
      'password ': secret,
      awsSecretAccessKey: secret,
      passphrase: secret,
      sessionCookie: secret,
      password: 12345678,
      db_pass: [secret],
      token: { value: secret },
      shipping: 'standard',
      keyboard: 'qwerty',
    };
    redactFields(r, doc, true, true);
    for (const key of Object.keys(doc).filter((k) => k !== 'shipping' && k !== 'keyboard')) expect(doc[key], key).toBe('[REDACTED]');
    expect(doc.shipping).toBe('standard');
    expect(doc.keyboard).toBe('qwerty');
    expect(JSON.stringify(doc)).not.toContain(secret);
  });
});

