// Credentials at rest: AES-256-GCM with a key from the environment (STACKLENS_SECRET_KEY,
// 32 bytes as base64 or hex). Each value gets its own random 12-byte IV; the auth tag makes
// tampering fail loudly. Stored as "v1:<iv>:<tag>:<ciphertext>" (base64url parts).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const SECRET_KEY_ENV = 'STACKLENS_SECRET_KEY';

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** The box for the key in the environment, or the reason there is none. */
  static fromEnv(env: Record<string, string | undefined> = process.env): SecretBox | string {
    const raw = env[SECRET_KEY_ENV];
    if (!raw) return `${SECRET_KEY_ENV} is not set (32 random bytes, base64: openssl rand -base64 32)`;
    const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
    if (key.length !== 32) return `${SECRET_KEY_ENV} must be 32 bytes (base64 or hex), got ${key.length}`;
    return new SecretBox(key);
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join(':');
  }

  open(sealed: string): string {
    const [version, iv, tag, data] = sealed.split(':');
    if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('not a sealed value');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }
}
