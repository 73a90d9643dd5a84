// E-mail (SMTP, through nodemailer): a mail per incident for rules that notify `email` (or
// `email:<address>`) and per-team digests (chat.teams.<team>.email, .email_digest).
import { z } from 'zod';
import { durationMs } from '@stacklens/common';
import { defineIntegration, shown } from './descriptor.js';

const address = () => z.string().regex(/^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/, 'must be an e-mail address such as ops@example.com');

export const emailSchema = z
  .strictObject({
    host: z.string().min(1),
    /** 587 (submission, STARTTLS) by default; 465 with secure: true (TLS from the start). */
    port: z.number().int().min(1).max(65535).default(587),
    /** TLS from the first byte (port 465). Otherwise STARTTLS is used when the server offers it. */
    secure: z.boolean().default(false),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /** The sender: "StackLens <stacklens@example.com>" or an address. */
    from: z.string().min(3),
    /** Default recipients: incidents whose rule says `notify: [email]` and whose team names none. */
    to: z.array(address()).default([]),
    /** Per SMTP command (connection, greeting, each reply): a server that never answers must not hold a mail past its outbox lease. */
    timeout: durationMs().default(15_000),
    /** Links in mails (the same as Jira's). */
    kibana_url: z.string().url().optional(),
    grafana_url: z.string().url().optional(),
  })
  .refine((e) => !e.password || e.username, { message: 'password needs username', path: ['username'] });

export const emailAddress = address;

export const email = defineIntegration({
  type: 'email',
  service: 'SMTP',
  configSchema: emailSchema,
  secretKeys: ['password'],
  destinationKeys: ['host'],
  async test(settings) {
    const { Mailer } = await import('../email/mailer.js');
    // EHLO, STARTTLS when offered, AUTH when configured: what sending a mail would do first.
    await new Mailer(settings).verify();
    return `SMTP: ${shown(settings.host)} accepted ${settings.username ? `user ${shown(settings.username)}` : 'the connection'}`;
  },
  capabilities: () => ['email'],
  notify: { channels: true },
});
