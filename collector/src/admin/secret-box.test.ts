import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box.js';

describe('SecretBox', () => {
  const key = randomBytes(32).toString('base64');
  it('seals and opens; the same value seals differently each time; the sealed text does not contain it', () => {
    const box = SecretBox.fromEnv({ STACKLENS_SECRET_KEY: key }) as SecretBox;
    const a = box.seal('jira-api-token-123');
    const b = box.seal('jira-api-token-123');
    expect(a).not.toBe(b);
    expect(a).not.toContain('jira-api-token-123');
    expect(box.open(a)).toBe('jira-api-token-123');
  });
  it('refuses a tampered value and a wrong key', () => {
    const box = SecretBox.fromEnv({ STACKLENS_SECRET_KEY: key }) as SecretBox;
    const sealed = box.seal('secret');
    const parts = sealed.split(':');
    parts[3] = Buffer.from('x' + Buffer.from(parts[3], 'base64url').toString('latin1').slice(1), 'latin1').toString('base64url');
    expect(() => box.open(parts.join(':'))).toThrow();
    const other = SecretBox.fromEnv({ STACKLENS_SECRET_KEY: randomBytes(32).toString('hex') }) as SecretBox;
    expect(() => other.open(sealed)).toThrow();
  });
  it('explains a missing or short key', () => {
    expect(SecretBox.fromEnv({})).toMatch(/STACKLENS_SECRET_KEY is not set/);
    expect(SecretBox.fromEnv({ STACKLENS_SECRET_KEY: 'c2hvcnQ=' })).toMatch(/must be 32 bytes/);
  });
});
