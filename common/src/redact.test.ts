import { describe, expect, it } from 'vitest';
import { Redactor, REDACT_DEFAULTS, luhnValid } from './redact.js';

const all = () => new Redactor({ ...REDACT_DEFAULTS, emails: true });

// Credential-shaped inputs are built at run time, so no secret-looking literal is tracked.
const FAKE_BEARER = `fake-${'x'.repeat(24)}`;
const FAKE_OPENAI_KEY = `sk-${'f'.repeat(24)}`;
const FAKE_AWS_KEY_ID = `AKIA${'Z'.repeat(16)}`;
// Built here, not written out: a fixture must not look like a real credential to a secret scanner.
const FAKE_AWS_SECRET = `fake/${'X'.repeat(35)}`;
const PEM_LABEL = ['RSA', 'PRIVATE', 'KEY'].join(' ');
const FAKE_PEM = `-----BEGIN ${PEM_LABEL}-----\nnot-a-key\n-----END ${PEM_LABEL}-----`;
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

  // Issue #12: Luhn passes one long number in ten, and spaced digits were read as one number.
  it('leaves the real-log numbers that were read as cards alone (issue #12)', () => {
    const r = all();
    const lines = [
      '081109 204453 34 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.251.73.220:50010 is added to blk_7128370237687728475 size 67108864',
      '- 1131566951 2005.11.09 tbird-admin1 Nov 9 12:04:48 local@tbird-admin1 /apps/x86_64/system/ganglia-3.0.1/sbin/gmetad[1682]: data_thread() got not answer',
      'BLOCK* NameSystem.delete: blk_-1608999687919862906 is added to invalidSet; blk_3110000000000000004 served',
    ];
    for (const l of lines) expect(r.redact(l)).toBe(l);
    expect(r.counts.card_numbers).toBe(0);
  });

  it('takes a card only in a token of its own, never inside an identifier or a longer number', () => {
    const r = all();
    for (const l of ['blk_4111111111111111', 'ORD-4111111111111111', 'x4111111111111111', '4111111111111111abc', '14111111111111111', '-4111111111111111', '+4111111111111111', '1.4111111111111111', '4111111111111111.25', '4111111111111111-2']) {
      expect(r.redact(l)).toBe(l);
    }
    expect(r.counts.card_numbers).toBe(0);
    expect(r.redact('card 4111111111111111.')).toBe('card [REDACTED-CARD-1111].');
  });

  it('takes grouped digits only in issuer layouts, with one kind of separator, not inside a longer grouping', () => {
    const r = all();
    expect(r.redact('amex 3782 822463 10005')).toBe('amex [REDACTED-CARD-0005]');
    expect(r.redact('diners 3622-720627-1667')).toBe('diners [REDACTED-CARD-1667]');
    expect(r.redact('19 digits 6205 5000 0000 0000 004')).toBe('19 digits [REDACTED-CARD-0004]');
    expect(r.redact('cvv after 4111 1111 1111 1111 123')).toBe('cvv after [REDACTED-CARD-1111] 123');
    expect(r.counts.card_numbers).toBe(4);
    const notCards = [
      '4111 1111-1111 1111', // mixed separators
      '4111  1111  1111  1111', // double spaces
      '4222 2222 2222 2', // 4-4-4-1: no issuer prints 13 digits so
      '4111 111111 11111', // 4-6-5 is Amex's layout, not Visa's
      '5555 5555 5555 4444 2222', // the grouping goes on: a dump, not a card
      'FR76 5555 5555 5555 4444 0189 123', // IBAN-shaped
    ];
    for (const l of notCards) expect(r.redact(l)).toBe(l);
    expect(r.counts.card_numbers).toBe(4);
  });

  it('requires an issuer prefix at a length that issuer uses, so epoch values and timestamps stay', () => {
    const r = all();
    // epoch ms, us, ns, a yyyyMMddHHmmssSSS timestamp, Amex's prefix at 16, Visa at 14, Mastercard at 19
    for (const l of ['1731753000008', '1731753000000008', '1731753000000000008', '20241116103000122', '3400000000000000', '41111111111114', '5555555555554444000']) {
      expect(luhnValid(l), l).toBe(true);
      expect(r.redact(l)).toBe(l);
    }
    expect(r.redact('mir 2200000000000004, mastercard 2223003122003222')).toBe('mir [REDACTED-CARD-0004], mastercard [REDACTED-CARD-3222]');
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
    // Whether a password was used is no secret, and brackets the value did not open stay.
    expect(r.redact("Access denied for user 'bob'@'10.0.0.1' (using password: YES)")).toBe("Access denied for user 'bob'@'10.0.0.1' (using password: YES)");
    expect(r.redact("Access denied for user 'bob'@'localhost' (using password: NO)")).toBe("Access denied for user 'bob'@'localhost' (using password: NO)");
    expect(r.redact(`(login password=${FAKE_PASSWORD})`)).toBe('(login password=[REDACTED])');
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

describe('secrets in common shapes (table)', () => {
  const r = () => new Redactor(REDACT_DEFAULTS);
  it.each([
    ['db_password=hunter2 host=db1', 'db_password=[REDACTED] host=db1'],
    ['DB_PASSWORD=hunter2', 'DB_PASSWORD=[REDACTED]'],
    ['{"user_password":"hunter2","user":"ana"}', '{"user_password":"[REDACTED]","user":"ana"}'],
    ['mysql_pwd=hunter2;', 'mysql_pwd=[REDACTED];'],
    ['connecting to postgres://app:s3cr3t@db.internal:5432/pos', 'connecting to postgres://app:[REDACTED]@db.internal:5432/pos'],
    ['token=ab12cd34ef56 ok', 'token=[REDACTED] ok'],
    ['secret=0123456789abcdef0123', 'secret=[REDACTED]'],
    ['authorization=Basic YWxpY2U6c2VjcmV0', 'authorization=Basic [REDACTED]'],
    ['x_api_key=9f8e7d6c5b4a', 'x_api_key=[REDACTED]'],
    [`AWS_SECRET_ACCESS_KEY=${FAKE_AWS_SECRET}`, 'AWS_SECRET_ACCESS_KEY=[REDACTED]'],
    [`key ${FAKE_PEM} done`, 'key [REDACTED-PRIVATE-KEY] done'],
    ['card pan%3D4111111111111111%26exp', 'card pan%3D[REDACTED-CARD-1111]%26exp'],
  ])('%s', (line, expected) => {
    expect(r().redact(line)).toBe(expected);
  });

  it.each([
    'sudo: ana : TTY=pts/0 ; PWD=/home/ana ; USER=root ; COMMAND=/bin/ls',
    'Token: Token { kind: ContainerToken, service: 172.22.149.145:28345 }',
    'prompt_tokens=420 completion_tokens=96',
    'Basic authentication failed for user ana',
    'order ORD-1234567890123 at 20241116103000123 epoch 1497039058810',
    'GET https://example.com/path?a=1 HTTP/1.1',
    'block blk_-1608999687919862906 and blk_3110450235716427143',
    'see https://user@example.com/ for details',
  ])('leaves alone: %s', (line) => {
    expect(r().redact(line)).toBe(line);
  });
});

describe('Redactor.mayMask', () => {
  it('is false only for text redact() leaves as it is (any text, any configuration)', async () => {
    const fc = (await import('fast-check')).default;
    // Text rich in what the patterns look for: digits, separators, key words, URLs, e-mail.
    const piece = fc.oneof(
      fc.string({ maxLength: 10 }),
      fc.constantFrom('4111111111111111', '4111 1111 1111 1111', 'Bearer ', 'bearer ', 'Basic dXNlcjpwYXNz', 'api_key=', 'token: ', 'secret', 'password=', 'pwd=', 'https://u:p@h', FAKE_OPENAI_KEY, FAKE_AWS_KEY_ID, `-----BEGIN ${PEM_LABEL}-----`, 'a@b.example', '12345678', ' ', '-', '"'),
    );
    const config = fc.record({ card_numbers: fc.boolean(), bearer_tokens: fc.boolean(), api_keys: fc.boolean(), passwords: fc.boolean(), emails: fc.boolean() });
    let quiet = 0;
    fc.assert(
      fc.property(config, fc.array(piece, { maxLength: 8 }), (cfg, parts) => {
        const text = parts.join('');
        const r = new Redactor(cfg);
        if (r.mayMask(text)) return;
        quiet++;
        expect(r.redact(text)).toBe(text);
      }),
      { seed: 20261201, numRuns: 3000 },
    );
    expect(quiet).toBeGreaterThan(300);
  });
});

describe('bearer tokens in any case', () => {
  it('masks BEARER <token> as it masks Bearer <token> (found by an outside tester)', () => {
    const r = new Redactor(REDACT_DEFAULTS);
    expect(r.redact(`auth BEARER ${FAKE_BEARER} ok`)).toBe('auth BEARER [REDACTED] ok');
    expect(r.mayMask(`auth BEARER ${FAKE_BEARER}`)).toBe(true);
  });
});
