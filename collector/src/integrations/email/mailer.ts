// Sending mail over SMTP with nodemailer. Failures are sorted the outbox's way: a server
// that is away, slow, or answers 4xx (try again later) is retried; 5xx (the mail or the
// recipients refused for good) and authentication failures are final.
import nodemailer, { type Transporter } from 'nodemailer';
import type { z } from 'zod';
import { RetryableError } from '../../outbox/outbox.js';
import type { emailSchema } from '../descriptors/email.js';

export type EmailConfig = z.infer<typeof emailSchema>;

export interface Mail {
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** The RFC 5322 Message-ID, without brackets: the same for a retry, so a mail accepted twice is one message to mail clients. */
  messageId: string;
  /** The thread this mail continues (In-Reply-To and References). */
  inReplyTo?: string;
  headers?: Record<string, string>;
}

export class Mailer {
  private readonly transport: Transporter;

  constructor(
    private readonly cfg: EmailConfig,
    private readonly observe: (result: string) => void = () => {},
  ) {
    this.transport = nodemailer.createTransport({
      host: cfg.host,
      port: cfg.port,
      secure: cfg.secure,
      auth: cfg.username ? { user: cfg.username, pass: cfg.password ?? '' } : undefined,
      connectionTimeout: cfg.timeout,
      greetingTimeout: cfg.timeout,
      socketTimeout: cfg.timeout,
      // nodemailer logs nothing unless asked: the password never reaches a log.
      logger: false,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  }

  /** EHLO, STARTTLS when offered, AUTH when configured (the connection test). */
  async verify(): Promise<void> {
    try {
      await this.transport.verify();
    } catch (err) {
      throw new Error(describe(err));
    }
  }

  /**
   * Sends to every recipient the server takes. `refused` lists the others with the server's
   * code: 4xx ones may be tried again later, 5xx ones not. Throws when nothing was sent.
   */
  async send(mail: Mail): Promise<{ accepted: string[]; refused: { address: string; code: number; reply: string }[] }> {
    const thread = mail.inReplyTo ? `<${mail.inReplyTo}>` : undefined;
    try {
      const info = await this.transport.sendMail({
        from: this.cfg.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: `<${mail.messageId}>`,
        ...(thread ? { inReplyTo: thread, references: [thread] } : {}),
        headers: mail.headers,
      });
      this.observe('ok');
      const errors = ((info as { rejectedErrors?: { recipient?: string; responseCode?: number; response?: string }[] }).rejectedErrors ?? []);
      const refused = (info.rejected as unknown[]).map(String).map((address) => {
        const e = errors.find((x) => x.recipient === address);
        return { address, code: e?.responseCode ?? 550, reply: String(e?.response ?? '').slice(0, 200) };
      });
      return { accepted: (info.accepted as unknown[]).map(String), refused };
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode;
      const kind = (err as { code?: string }).code;
      const why = describe(err);
      if (kind === 'EAUTH' || (code !== undefined && code >= 500)) {
        this.observe(kind === 'EAUTH' ? 'auth_failed' : `smtp_${code}`);
        throw new Error(why);
      }
      this.observe(code ? `smtp_${code}` : 'unreachable');
      throw new RetryableError(why);
    }
  }

  close(): void {
    this.transport.close();
  }
}

/** The SMTP reply or the connection error, never the credentials. */
function describe(err: unknown): string {
  const e = err as { code?: string; responseCode?: number; response?: string; command?: string; message?: string };
  if (e.responseCode) return `SMTP ${e.responseCode}${e.command ? ` after ${e.command.split(' ')[0]}` : ''}: ${String(e.response ?? '').slice(0, 200)}`;
  if (e.code === 'ETIMEDOUT') return 'SMTP server did not answer in time';
  if (e.code === 'ECONNECTION' || e.code === 'ESOCKET' || e.code === 'ECONNREFUSED') return `SMTP server unreachable (${String(e.message ?? e.code).slice(0, 200)})`;
  return `SMTP: ${String(e.message ?? err).slice(0, 200)}`;
}
