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


describe('fieldsMayNeedRedaction', () => {
  it('is false only for JSON whose object redactFields leaves as it is (any fields, any configuration)', async () => {
    const fc = (await import('fast-check')).default;
    const { fieldsMayNeedRedaction } = await import('./redact-fields.js');
    const word = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('password', 'userPwd', 'pin', 'api_key', 'X-Auth-Token', 'secret', 'cookie', 'Bearer abcdefghijkl', '4111111111111111', '4111 1111 1111 1111', 'https://u:p@h', 'a@b.example', 'sk-abcdefghijklmnopqrstuvwx', '\\', '"', 'é'));
    const value = fc.oneof(word, fc.integer(), fc.constant(4111111111111111), fc.boolean(), fc.constant(null));
    const fields = fc.dictionary(word, fc.oneof(value, fc.dictionary(word, value, { maxKeys: 3 })), { maxKeys: 5 });
    const config = fc.record({ card_numbers: fc.boolean(), bearer_tokens: fc.boolean(), api_keys: fc.boolean(), passwords: fc.boolean(), emails: fc.boolean() });
    let quiet = 0;
    fc.assert(
      fc.property(config, fields, (cfg, object) => {
        const json = JSON.stringify(object).slice(1, -1);
        const r = new Redactor(cfg);
        if (fieldsMayNeedRedaction(r, json, cfg.passwords, cfg.api_keys)) return;
        quiet++;
        const copy = JSON.parse(`{${json}}`) as Record<string, unknown>;
        redactFields(r, copy, cfg.passwords, cfg.api_keys);
        expect(copy).toEqual(JSON.parse(`{${json}}`));
      }),
      { seed: 20261203, numRuns: 3000 },
    );
    expect(quiet).toBeGreaterThan(300);
  });
});
