// Redaction of parsed events (formats json, chatbot, pos), table-driven: what is masked and
// what must stay — order ids, timestamps and epoch values, ids that carry card-valid digits —
// and the line corpora (test/fixtures/redaction) put in field values, where they must fare
// exactly as they do in a line.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Redactor, REDACT_DEFAULTS } from '@stacklens/common';
import { redactFields } from './redact-fields.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'redaction');
const fixtureLines = (name: string) =>
  readFileSync(path.join(fixtures, name), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));

const redacted = (doc: Record<string, unknown>, allowPasswords = true, allowKeys = true) => {
  const r = new Redactor(REDACT_DEFAULTS);
  const copy = structuredClone(doc);
  redactFields(r, copy, allowPasswords, allowKeys);
  return { doc: copy, counts: r.counts };
};

describe('redactFields: masked', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['a password-named key, whatever its value', { password: 'x' }, { password: '[REDACTED]' }],
    ['a prefixed password key', { db_pass: 'hunter2', 'smtp-passwd': 'p', user_pwd: 'q' }, { db_pass: '[REDACTED]', 'smtp-passwd': '[REDACTED]', user_pwd: '[REDACTED]' }],
    ['secret-named keys', { api_key: 'k', 'x-api-key': 'k', accessToken: 't', client_secret: 's', Authorization: 'Bearer abc' }, { api_key: '[REDACTED]', 'x-api-key': '[REDACTED]', accessToken: '[REDACTED]', client_secret: '[REDACTED]', Authorization: '[REDACTED]' }],
    ['a card in a string value', { note: 'paid with 4111 1111 1111 1111' }, { note: 'paid with [REDACTED-CARD-1111]' }],
    ['a card as a JSON number', { pan: 5555555555554444 }, { pan: '[REDACTED-CARD-4444]' }],
    ['a card used as a key', { '4111111111111111': 'declined' }, { '[REDACTED-CARD-1111]': 'declined' }],
    ['secrets in nested objects and arrays', { a: { b: [{ token: 'abc' }, 'card 4012888888881881'] } }, { a: { b: [{ token: '[REDACTED]' }, 'card [REDACTED-CARD-1881]'] } }],
    ['a secret inside a free-text value', { msg: 'GET /items?api_key=abcd1234efgh&page=2' }, { msg: 'GET /items?api_key=[REDACTED]&page=2' }],
  ])('%s', (_what, input, expected) => {
    expect(redacted(input).doc).toEqual(expected);
  });
});

describe('redactFields: left alone', () => {
  it.each<[string, Record<string, unknown>]>([
    ['epoch milliseconds, microseconds and nanoseconds as numbers', { '@timestamp': 1497039058810, ts_us: 1731753000000008, ts_ns: 1731753000000000008 }],
    ['ISO and digit timestamps as strings', { '@timestamp': '2024-11-16T10:30:00.123Z', stamp: '20241116103000122', date: '2024-11-16 10:30:00,123' }],
    ['order ids and references with card-valid digit runs', { orderId: 'ORD-4111111111111111', invoice: 'INV-5555555555554444', cart: 'cart_6011111111111117', sku: 'SKU4242424242424242X' }],
    ['numeric ids that are no card (no issuer at that length, or Luhn fails)', { id: 1234567890123, order: 4111111111111112, total: 12.5, qty: -4111111111111111 }],
    ['keys that look like, but are not, secret names', { passenger: 'ana', tokens_used: 420, secretary: 'bob', password_reset_requested: 'yes', keyboard: 'de' }],
    ['booleans, nulls and small numbers', { ok: true, none: null, n: 42 }],
  ])('%s', (_what, input) => {
    const { doc, counts } = redacted(input);
    expect(doc).toEqual(input);
    expect(counts).toEqual({ card_numbers: 0, bearer_tokens: 0, api_keys: 0, passwords: 0, emails: 0 });
  });

  it('secret-named keys are left to the line patterns when password and key redaction are off', () => {
    expect(redacted({ password: 'hunter2', api_key: 'k' }, false, false).doc).toEqual({ password: 'hunter2', api_key: 'k' });
  });
});

describe('redactFields with the line corpora', () => {
  it('every line of negatives.txt, as a field value, stays unchanged', () => {
    const lines = fixtureLines('negatives.txt');
    expect(lines.length).toBeGreaterThan(30);
    const { doc, counts } = redacted({ values: lines });
    expect((doc.values as string[]).filter((v, i) => v !== lines[i])).toEqual([]);
    expect(counts.card_numbers).toBe(0);
  });

  it('every line of cards.txt, as a field value, is masked as the line is', () => {
    const marked = fixtureLines('cards.txt');
    const inputs = marked.map((m) => m.replace(/<<|>>/g, ''));
    const { doc } = redacted({ values: inputs });
    expect(doc.values).toEqual(inputs.map((l) => new Redactor(REDACT_DEFAULTS).redact(l)));
    expect((doc.values as string[]).every((v) => v.includes('[REDACTED-CARD-'))).toBe(true);
  });
});
