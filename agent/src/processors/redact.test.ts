import { describe, expect, it } from 'vitest';
import { Redactor, REDACT_DEFAULTS, luhnValid } from './redact.js';

const all = () => new Redactor({ ...REDACT_DEFAULTS, emails: true });

// Credential-shaped inputs are built at run time, so no secret-looking literal is tracked.
const FAKE_BEARER = `fake-${'x'.repeat(24)}`;
const FAKE_OPENAI_KEY = `sk-${'f'.repeat(24)}`;
const FAKE_AWS_KEY_ID = `AKIA${'Z'.repeat(16)}`;
const FAKE_PASSWORD = 'not-a-real-password';

describe('Redactor', () => {
  it('masks card numbers that pass Luhn, with or without separators, keeping the last four digits', () => {
    const r = all();
    expect(r.redact('paid with 4111111111111111 ok')).toBe('paid with [REDACTED-CARD-1111] ok');
    expect(r.redact('card 5500-0000-0000-0004 declined')).toBe('card [REDACTED-CARD-0004] declined');
    expect(r.redact('{"pan":"4012 8888 8888 1881"}')).toBe('{"pan":"[REDACTED-CARD-1881]"}');
    expect(r.counts.card_numbers).toBe(3);
  });

  it('leaves order ids, timestamps and other numbers that are not card numbers alone', () => {
    const r = all();
    const lines = [
      '[2024-11-16T10:30:00Z] [INFO] Order completed | {"orderId":"ORD-953089","productId":999,"total":12.5}',
      'order 4111111111111112 (fails Luhn) and id 1234567890123',
      'epoch 1731753000000 and phone 555 0100',
    ];
    for (const l of lines) expect(r.redact(l)).toBe(l);
    expect(r.counts.card_numbers).toBe(0);
  });

  it('masks bearer tokens and API keys in headers, query strings and JSON', () => {
    const r = all();
    expect(r.redact(`Authorization: Bearer ${FAKE_BEARER}`)).toBe('Authorization: Bearer [REDACTED]');
    expect(r.redact('GET /v1/items?api_key=abcd1234efgh&page=2')).toBe('GET /v1/items?api_key=[REDACTED]&page=2');
    expect(r.redact('{"apiKey": "k-123456789", "user": "ana"}')).toBe('{"apiKey": "[REDACTED]", "user": "ana"}');
    expect(r.redact(`using ${FAKE_OPENAI_KEY} for triage`)).toBe('using [REDACTED-KEY] for triage');
    expect(r.redact(`aws ${FAKE_AWS_KEY_ID}`)).toBe('aws [REDACTED-KEY]');
  });

  it('masks password values in key=value and JSON forms', () => {
    const r = all();
    expect(r.redact(`login user=ana password=${FAKE_PASSWORD} ok`)).toBe('login user=ana password=[REDACTED] ok');
    expect(r.redact('{"user":"ana","password":"p@ss \\"word\\"","remember":true}')).toBe('{"user":"ana","password":"[REDACTED]","remember":true}');
    expect(r.counts.passwords).toBe(2);
    expect(r.redact('password reset requested')).toBe('password reset requested');
  });

  it('masks e-mail addresses only when asked', () => {
    expect(all().redact('mail ana.lopez@example.com now')).toBe('mail a***@example.com now');
    expect(new Redactor(REDACT_DEFAULTS).redact('mail ana.lopez@example.com now')).toBe('mail ana.lopez@example.com now');
  });

  it('implements Luhn', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
  });
});
