// #18 e-mail: incident mails and team digests through the real agent, collector and
// Elasticsearch, delivered over SMTP to a real SMTP server process (smtp-server, nodemailer's
// server side) and read back with mailparser: one mail per incident with the ticket's facts,
// threading headers and escaped HTML; a temporary SMTP failure retried into one mail, a
// permanent one recorded on the timeline; one digest per team and period across a restart.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor, type AgentHandle, type CollectorHandle } from './helpers.js';
import { ADMIN, api, missingPrice, missingPriceAnyRule, startStack, type Stack } from './stack.js';

const esUrl = inject('esUrl');
const running: (AgentHandle | CollectorHandle)[] = [];
const SMTP_USER = 'stacklens';
const SMTP_PASSWORD = `smtp-${randomBytes(12).toString('hex')}`;
const received: { mail: ParsedMail; rcpt: string[] }[] = [];
/** Recipients answered with this SMTP error (code and how many times), to fail chosen mails. */
const failRcpt = new Map<string, { code: number; times: number }>();
let smtp: SMTPServer;
let smtpPort = 0;
let stack: Stack;
let team = '';

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) return cb(null, { user: auth.username });
      cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, cb) {
      const fail = failRcpt.get(address.address);
      if (fail && fail.times > 0) {
        fail.times--;
        return cb(Object.assign(new Error(fail.code >= 500 ? 'mailbox unavailable' : 'try again later'), { responseCode: fail.code }));
      }
      cb();
    },
    onData(stream, session, cb) {
      simpleParser(stream).then(
        (mail) => {
          received.push({ mail, rcpt: session.envelope.rcptTo.map((r) => r.address) });
          cb();
        },
        (err) => cb(err),
      );
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  smtpPort = (smtp.server.address() as AddressInfo).port;
  team = `mail${randomBytes(3).toString('hex')}`;
  stack = await startStack(esUrl, running, { 'mp.yml': missingPriceAnyRule('mail-mp-$NS', `labels: { team: ${team} }\nnotify: [email, "email:audit@example.com"]`) }, {
    extra: [
      'integrations:',
      '  email:',
      '    host: 127.0.0.1',
      `    port: ${smtpPort}`,
      `    username: ${SMTP_USER}`,
      '    password: ${SMTP_PASSWORD}',
      '    from: "StackLens <stacklens@example.com>"',
      '    to: [fallback@example.com]',
      '    timeout: 5s',
      'outbox:',
      '  retry_budget: 60s',
      'chat:',
      '  teams:',
      `    ${team}:`,
      '      email: [oncall@example.com]',
      '      email_digest: hourly',
      '',
    ].join('\n'),
    env: { SMTP_PASSWORD },
  });
}, 240_000);
afterAll(async () => {
  for (const r of running.splice(0)) await r.stop('SIGKILL');
  await new Promise<void>((r) => smtp?.close(() => r()));
});

const incidentMails = (id: string) => received.filter((r) => r.mail.headers.get('x-stacklens-incident') === id);
const digests = () => received.filter((r) => r.mail.headers.get('x-stacklens-digest') === team);

describe('e-mail notifications', () => {
  it('one mail per incident, to the team and the named address, with the ticket\'s facts and threading headers — a burst adds none', async () => {
    stack.log.append([missingPrice('STORE_M1'), missingPrice('STORE_M2')]);
    const incidents = await waitFor('two incidents', async () => {
      const r = await api(stack.collectors[0], `/incidents?rule=mail-mp-${stack.ns}`, { token: ADMIN });
      return r.body.total === 2 ? (r.body.incidents as any[]) : undefined;
    }, 30_000);
    for (const inc of incidents) await waitFor(`the mail of ${inc.id}`, async () => incidentMails(inc.id).length === 1, 30_000);
    // A burst of the same errors updates the incidents; it mails nobody.
    stack.log.append(Array.from({ length: 50 }, (_, i) => missingPrice(i % 2 ? 'STORE_M1' : 'STORE_M2')));
    await waitFor('the burst counted', async () => {
      const r = await api(stack.collectors[0], `/incidents?rule=mail-mp-${stack.ns}`, { token: ADMIN });
      return r.body.incidents.every((i: any) => i.count >= 26);
    }, 30_000);
    for (const inc of incidents) {
      const mails = incidentMails(inc.id);
      expect(mails).toHaveLength(1);
      const { mail, rcpt } = mails[0];
      expect(rcpt.sort()).toEqual(['audit@example.com', 'oncall@example.com']);
      expect(mail.messageId).toBe(`<incident.${inc.id}@stacklens>`);
      expect(mail.from?.text).toContain('stacklens@example.com');
      expect(mail.subject).toMatch(/^\[CRITICAL\] MISSING_PRICE: .*Product #999 has no price/);
      expect(mail.text).toContain('What happened');
      expect(mail.text).toContain(inc.group_key.split('=')[1]);
      expect(mail.html).toContain('<h3>What happened</h3>');
      // The analysis section is there (runbook triage: no LLM configured here).
      expect(mail.text).toMatch(/Analysis[\s\S]*Runbook/);
      // The timeline says so.
      const full = await api(stack.collectors[0], `/incidents/${inc.id}`, { token: ADMIN });
      expect(full.body.incident?.timeline ?? full.body.timeline).toEqual(expect.arrayContaining([expect.objectContaining({ stage: 'email_sent' })]));
    }
  });

  it('a temporary SMTP refusal is retried into one mail; a permanent one fails the task with the server\'s reason', async () => {
    failRcpt.set('oncall@example.com', { code: 451, times: 1 });
    stack.log.append([missingPrice('STORE_M3')]);
    const inc = await waitFor('the incident', async () => (await api(stack.collectors[0], `/incidents?rule=mail-mp-${stack.ns}&group_key=pos.store_id%3DSTORE_M3`, { token: ADMIN })).body.incidents?.[0], 30_000);
    // audit@ got it at once; oncall@ was put off (451) and gets it on the retry — each once.
    await waitFor('the retried mail', async () => incidentMails(inc.id).length === 2, 45_000);
    expect(failRcpt.get('oncall@example.com')!.times).toBe(0);
    expect(incidentMails(inc.id).map((m) => m.rcpt).sort()).toEqual([['audit@example.com'], ['oncall@example.com']]);
    expect(new Set(incidentMails(inc.id).map((m) => m.mail.messageId)).size).toBe(1);

    // One recipient refused for good: the mail goes to the other, and the timeline names the refused one.
    failRcpt.set('audit@example.com', { code: 550, times: 1 });
    stack.log.append([missingPrice('STORE_M5')]);
    const partial = await waitFor('the incident', async () => (await api(stack.collectors[0], `/incidents?rule=mail-mp-${stack.ns}&group_key=pos.store_id%3DSTORE_M5`, { token: ADMIN })).body.incidents?.[0], 30_000);
    const sentNote = await waitFor('email_sent on the timeline', async () => {
      const full = await api(stack.collectors[0], `/incidents/${partial.id}`, { token: ADMIN });
      return ((full.body.incident?.timeline ?? full.body.timeline ?? []) as any[]).find((t) => t.stage === 'email_sent');
    }, 45_000);
    expect(sentNote.note).toBe('to oncall@example.com; refused by the server: audit@example.com');
    expect(incidentMails(partial.id).map((m) => m.rcpt)).toEqual([['oncall@example.com']]);

    // Every recipient refused for good: the task fails, with the server's answer.
    failRcpt.set('oncall@example.com', { code: 550, times: 100 });
    failRcpt.set('audit@example.com', { code: 550, times: 100 });
    stack.log.append([missingPrice('STORE_M4')]);
    const bad = await waitFor('the incident', async () => (await api(stack.collectors[0], `/incidents?rule=mail-mp-${stack.ns}&group_key=pos.store_id%3DSTORE_M4`, { token: ADMIN })).body.incidents?.[0], 30_000);
    const failed = await waitFor('email_failed on the timeline', async () => {
      const full = await api(stack.collectors[0], `/incidents/${bad.id}`, { token: ADMIN });
      const timeline: any[] = full.body.incident?.timeline ?? full.body.timeline ?? [];
      return timeline.find((t) => t.stage === 'email_failed');
    }, 45_000);
    expect(failed.note).toMatch(/SMTP 550/);
    expect(failed.note).not.toContain(SMTP_PASSWORD);
    expect(incidentMails(bad.id)).toHaveLength(0);
    failRcpt.clear();
    const metrics = await (await fetch(`${stack.collectors[0].url}/metrics`)).text();
    expect(Number(/^stacklens_emails_total\{kind="incident",result="retry"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/^stacklens_emails_total\{kind="incident",result="failed"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/^stacklens_emails_total\{kind="incident",result="sent"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(4);
  });

  it('one digest per team and period, across a collector restart', async () => {
    const first = await waitFor('the digest', async () => (digests().length >= 1 ? digests() : undefined), 60_000);
    // One mail per period (its Message-ID names the period); a second period may begin during the test, on the hour.
    const periods = () => digests().map((d) => d.mail.messageId);
    expect(new Set(periods()).size).toBe(periods().length);
    const { mail, rcpt } = first[0];
    expect(rcpt).toEqual(['oncall@example.com']);
    expect(mail.subject).toMatch(new RegExp(`^StackLens digest for ${team}: \\d+ open, \\d+ opened, \\d+ resolved`));
    expect(mail.text).toMatch(/Open now: \d+/);
    expect(mail.text).toMatch(/Mean time to acknowledge: /);
    expect(mail.text).toContain('Top message templates:');
    await stack.collectors[0].stop('SIGKILL');
    await stack.collectors[0].restart();
    // The restarted collector checks at once; the period's task exists: nothing more is sent.
    await waitFor('the restarted collector has checked its digests', async () => (await api(stack.collectors[0], `/outbox?action=digest&size=50`, { token: ADMIN })).body.tasks?.some((t: any) => t.id.startsWith(`digest:${team}:`) && t.status === 'done'), 30_000);
    await new Promise((r) => setTimeout(r, 3000));
    expect(periods().filter((id) => id === mail.messageId)).toHaveLength(1);
    expect(new Set(periods()).size).toBe(periods().length);
  });
});
