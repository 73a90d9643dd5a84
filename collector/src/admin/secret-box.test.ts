import { describe, expect, it } from 'vitest';
import { createCipheriv, randomBytes } from 'node:crypto';
import { SealError, SecretBox } from './secret-box.js';

describe('SecretBox', () => {
  const key = randomBytes(32).toString('base64');
  const box = SecretBox.fromEnv({ STACKLENS_SECRET_KEY: key }) as SecretBox;
  const ctx = 'jira-main\u0000api_token';

  it('seals and opens; the same value seals differently each time; the sealed text does not contain it', () => {
    const a = box.seal('jira-api-token-123', ctx);
    const b = box.seal('jira-api-token-123', ctx);
    expect(a).not.toBe(b);
    expect(a).not.toContain('jira-api-token-123');
    expect(a.startsWith('v2:')).toBe(true);
    expect(box.open(a, ctx)).toBe('jira-api-token-123');
  });

  it('refuses a tampered value and a wrong key', () => {
    const sealed = box.seal('secret', ctx);
    const parts = sealed.split(':');
    parts[3] = Buffer.from('x' + Buffer.from(parts[3], 'base64url').toString('latin1').slice(1), 'latin1').toString('base64url');
    expect(() => box.open(parts.join(':'), ctx)).toThrow(SealError);
    const other = SecretBox.fromEnv({ STACKLENS_SECRET_KEY: randomBytes(32).toString('hex') }) as SecretBox;
    expect(() => other.open(sealed, ctx)).toThrow(SealError);
  });

  it('binds a value to its integration and field: another id, field or nested path does not open it', () => {
    const sealed = box.seal('xoxb-1', 'slack-x\u0000workspaces.T123.bot_token');
    expect(box.open(sealed, 'slack-x\u0000workspaces.T123.bot_token')).toBe('xoxb-1');
    for (const elsewhere of ['slack-y\u0000workspaces.T123.bot_token', 'slack-x\u0000workspaces.T999.bot_token', 'slack-x\u0000bot_token', 'openai-1\u0000api_key', '', 'slack-x\u0000workspaces.T123.bot_token\u0000']) {
      expect(() => box.open(sealed, elsewhere)).toThrow(/sealed for another integration or field/);
    }
    // The separator keeps "ab" + "c" apart from "a" + "bc".
    expect(() => box.open(box.seal('v', 'ab\u0000c'), 'a\u0000bc')).toThrow(SealError);
  });

  it('refuses a value sealed in the old unbound format (v1), saying to store it again; nothing readable in the error', () => {
    // What the previous version wrote: no AAD, "v1:" marker.
    const raw = Buffer.from(key, 'base64');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', raw, iv);
    const data = Buffer.concat([cipher.update('old-secret-value', 'utf8'), cipher.final()]);
    const v1 = ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join(':');
    expect(() => box.open(v1, ctx)).toThrow(/old format \(v1\).*store the secret again/);
    expect(() => box.open(v1, '')).toThrow(/old format/);
    try {
      box.open(v1, ctx);
    } catch (err) {
      expect((err as Error).message).not.toContain('old-secret-value');
    }
  });

  it('refuses what is not a sealed value', () => {
    for (const junk of ['', 'plain-token', 'v2:', 'v2:a:b', 'v3:a:b:c']) expect(() => box.open(junk, ctx)).toThrow(SealError);
  });

  it('explains a missing or short key', () => {
    expect(SecretBox.fromEnv({})).toMatch(/STACKLENS_SECRET_KEY is not set/);
    expect(SecretBox.fromEnv({ STACKLENS_SECRET_KEY: 'c2hvcnQ=' })).toMatch(/must be 32 bytes/);
  });
});
