import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { maskUrlCredentials } from './mask-url.js';
import { createLogger } from './log.js';

// Built at run time so no real-looking secret sits in the source.
const secret = () => `pw-${Math.random().toString(36).slice(2)}`;

describe('maskUrlCredentials', () => {
  it('keeps the user and masks the password, for any scheme', () => {
    expect(maskUrlCredentials('http://elastic:changeme1@es:9200')).toBe('http://elastic:***@es:9200');
    expect(maskUrlCredentials('https://u:p@example.com/path?q=1#f')).toBe('https://u:***@example.com/path?q=1#f');
    expect(maskUrlCredentials('redis://:p4ss@cache:6379/0')).toBe('redis://:***@cache:6379/0');
    expect(maskUrlCredentials('postgres+ssl://app:x%40y@db/app')).toBe('postgres+ssl://app:***@db/app');
    expect(maskUrlCredentials('amqp://guest:guest@[::1]:5672')).toBe('amqp://guest:***@[::1]:5672');
  });

  it('masks every URL in a text, wherever it sits', () => {
    const [a, b] = [secret(), secret()];
    const text = `collector listening, elasticsearch ["http://elastic:${a}@es1:9200","https://ops:${b}@es2:9200"]; retrying (http://elastic:${a}@es1:9200)`;
    const masked = maskUrlCredentials(text);
    expect(masked).toBe('collector listening, elasticsearch ["http://elastic:***@es1:9200","https://ops:***@es2:9200"]; retrying (http://elastic:***@es1:9200)');
    expect(maskUrlCredentials('a,http://u:1@h1,http://v:2@h2 end')).toBe('a,http://u:***@h1,http://v:***@h2 end');
  });

  it('masks a password holding a raw "@" whole (the last "@" of the authority ends the userinfo)', () => {
    expect(maskUrlCredentials('http://elastic:p@ss@es:9200/x@y')).toBe('http://elastic:***@es:9200/x@y');
    expect(maskUrlCredentials('http://me@corp.com:pw@es:9200')).toBe('http://me@corp.com:***@es:9200');
  });

  it('leaves alone what carries no password', () => {
    for (const text of [
      'plain text, no url',
      'mail ops@example.com about http://es:9200',
      'http://es:9200/_cat/indices?h=index,docs.count@x',
      'https://token-only@github.com/org/repo',
      'http://localhost:4873/@types/node',
      'http://[::1]:9200/ and a@b',
      'http://user:@host',
      'ssh://git@github.com:org/repo.git@v1',
      '{"url":"http://es:9200","by":"ops@example.com"}',
    ]) expect(maskUrlCredentials(text), text).toBe(text);
  });

  it('keeps a JSON text valid JSON, and stops at the JSON string that holds the URL', () => {
    const p = secret();
    const line = JSON.stringify({ msg: 'collector listening', elasticsearch: [`http://elastic:${p}@es:9200`], by: 'ops@example.com', err: `connect failed\nhttp://elastic:${p}@es:9200 "quoted" x@y` });
    const masked = maskUrlCredentials(line);
    expect(masked).not.toContain(p);
    expect(JSON.parse(masked)).toEqual({ msg: 'collector listening', elasticsearch: ['http://elastic:***@es:9200'], by: 'ops@example.com', err: 'connect failed\nhttp://elastic:***@es:9200 "quoted" x@y' });
  });

  it('is idempotent and never leaks a generated password (property)', () => {
    const pwChar = fc.constantFrom(...'abcXYZ019-_.~!$&\'()*+,;=%@:'.split(''));
    fc.assert(
      fc.property(
        fc.constantFrom('http', 'https', 'redis', 'mongodb+srv'),
        fc.stringMatching(/^[a-z0-9._-]{0,8}$/),
        fc.array(pwChar, { minLength: 1, maxLength: 24 }).map((c) => `Z${c.join('')}Q`),
        fc.constantFrom('', '/', '/path?x=1', ':9200', ' trailing', '"', ', http://x:y@z'),
        (scheme, user, password, tail) => {
          const text = `before ${scheme}://${user}:${password}@host.example${tail}`;
          const once = maskUrlCredentials(text);
          expect(once).toContain(`${scheme}://${user}:***@host.example`);
          expect(once).not.toContain(password);
          expect(maskUrlCredentials(once)).toBe(once);
        },
      ),
      { numRuns: Number(process.env.STACKLENS_FUZZ_RUNS ?? 500), seed: process.env.STACKLENS_FUZZ_SEED ? Number(process.env.STACKLENS_FUZZ_SEED) : undefined },
    );
  });

  it('stays linear on hostile input', () => {
    const hostile = `${'://a:'.repeat(20_000)}${'@'.repeat(20_000)}${'a'.repeat(100_000)}://x`;
    const started = performance.now();
    maskUrlCredentials(hostile);
    maskUrlCredentials(`http://${'u:'.repeat(50_000)}`);
    maskUrlCredentials(`${'http://u:p'.repeat(20_000)}@`);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('createLogger', () => {
  it('masks URL credentials in every log line: message, fields, arrays, errors, child bindings', () => {
    const p = secret();
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const log = createLogger('test', 'info', sink);
    const url = `http://elastic:${p}@127.0.0.1:9200`;
    log.info({ listen: 'http://0.0.0.0:8080', elasticsearch: [url] }, 'collector listening');
    log.warn(`cannot reach ${url}`);
    log.error({ err: new Error(`connect ECONNREFUSED ${url}`) }, 'failed');
    log.child({ node: url }).info({ nested: { deeper: { url } } }, 'child');
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      expect(line).not.toContain(p);
      expect(line).toContain('http://elastic:***@127.0.0.1:9200');
      JSON.parse(line);
    }
    expect(JSON.parse(lines[0]).elasticsearch).toEqual(['http://elastic:***@127.0.0.1:9200']);
  });

  it('still redacts secret-named fields', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    createLogger('test', 'info', sink).info({ token: 'abc', nested: { password: 'def' } }, 'x');
    expect(JSON.parse(lines[0])).toMatchObject({ token: '[redacted]', nested: { password: '[redacted]' } });
  });
});
