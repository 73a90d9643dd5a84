// Credentials at rest: AES-256-GCM with a key from the environment (STACKLENS_SECRET_KEY,
// 32 bytes as base64 or hex). Each value gets its own random 12-byte IV; the auth tag makes
// tampering fail loudly.
//
// Every value is sealed for a context (its additional authenticated data): the integration
// store passes "<integration id>\0<field path>". The context is not stored, it is supplied
// again to open, so a sealed value copied into another integration or field (by someone who
// can write to Elasticsearch but has no key) fails to open instead of being sent elsewhere.
//
// Format: "v2:<iv>:<tag>:<ciphertext>" (base64url parts), the version marking the bound
// format. "v1:" values (sealed before issue #14, without a context) are recognised and
// REFUSED, not re-sealed: an unbound value may already have been moved, and re-sealing it
// would bless the move. The error says to store the secret again.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const SECRET_KEY_ENV = 'STACKLENS_SECRET_KEY';
const VERSION = 'v2';

/** A value that cannot be opened; `reason` says why (never holding the value), the message adds what to do. */
export class SealError extends Error {
  constructor(readonly reason: string) {
    super(`${reason}: store the secret again`);
  }
}

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

  /** Seal `plain` for `context`: only open(sealed, the same context) gives it back. */
  seal(plain: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join(':');
  }

  open(sealed: string, context: string): string {
    const [version, iv, tag, data] = sealed.split(':');
    if (version === 'v1') throw new SealError('sealed value is in the old format (v1), not bound to its integration and field');
    if (version !== VERSION || !iv || !tag || data === undefined) throw new SealError('sealed value is not one this version reads');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      // GCM cannot tell these apart: all mean "not sealed here, for this, with this key".
      throw new SealError(`sealed value does not open (sealed for another integration or field, altered, or under another ${SECRET_KEY_ENV})`);
    }
  }
}
