import { describe, expect, it } from 'vitest';
import { SlackVerifier } from './slack-signature.js';

// The example request of https://api.slack.com/authentication/verifying-requests-from-slack
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TIMESTAMP = '1531420618';
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const headers = (sig = SIGNATURE, ts = TIMESTAMP) => ({ 'x-slack-signature': sig, 'x-slack-request-timestamp': ts });
const at = (seconds: number) => () => seconds * 1000;

describe('Slack request verification', () => {
  it("accepts Slack's documented example request", () => {
    expect(new SlackVerifier(SECRET, at(Number(TIMESTAMP) + 30)).verify(headers(), Buffer.from(BODY))).toEqual({ ok: true });
  });

  it('refuses a changed body, a wrong secret, a malformed signature and missing headers', () => {
    const v = () => new SlackVerifier(SECRET, at(Number(TIMESTAMP)));
    expect(v().verify(headers(), Buffer.from(BODY.replace('text=', 'text=ack')))).toEqual({ ok: false, reason: 'signature does not match' });
    expect(new SlackVerifier('another-secret', at(Number(TIMESTAMP))).verify(headers(), Buffer.from(BODY))).toMatchObject({ ok: false });
    expect(v().verify(headers('v0=abc'), Buffer.from(BODY))).toEqual({ ok: false, reason: 'signature does not match' });
    expect(v().verify({}, Buffer.from(BODY))).toMatchObject({ ok: false, reason: expect.stringContaining('missing') });
    expect(v().verify(headers(SIGNATURE, 'yesterday'), Buffer.from(BODY))).toMatchObject({ ok: false, reason: expect.stringContaining('Unix time') });
  });

  it('refuses timestamps more than 5 minutes away, and the same request twice', () => {
    expect(new SlackVerifier(SECRET, at(Number(TIMESTAMP) + 301)).verify(headers(), Buffer.from(BODY))).toMatchObject({ ok: false, reason: expect.stringContaining('5 minutes') });
    expect(new SlackVerifier(SECRET, at(Number(TIMESTAMP) - 301)).verify(headers(), Buffer.from(BODY))).toMatchObject({ ok: false });
    const v = new SlackVerifier(SECRET, at(Number(TIMESTAMP) + 10));
    expect(v.verify(headers(), Buffer.from(BODY)).ok).toBe(true);
    expect(v.verify(headers(), Buffer.from(BODY))).toEqual({ ok: false, reason: 'request already received (replayed)' });
  });
});
