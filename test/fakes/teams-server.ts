// A local server speaking a Microsoft Teams incoming webhook as documented: POST of a JSON
// message {type: "message", attachments: [{contentType: "application/vnd.microsoft.card.adaptive",
// content: <Adaptive Card>}]} to the webhook's URL; 202 Accepted (Workflows) for a card it
// takes, 400 for one it cannot read, 404 for a URL that is no webhook, 429 with Retry-After
// when throttled. `answers` scripts the next requests: 429 with a Retry-After, 500, or hang.
import express from 'express';
import type { Server } from 'node:http';

export interface FakeTeamsCard {
  /** The webhook id (last path segment) it was posted to. */
  hook: string;
  card: any;
  /** Date.now() when it was accepted. */
  at: number;
}

export type FakeTeamsAnswer = { status: 429; retryAfter: number } | { status: 500 } | 'hang';

export class FakeTeams {
  readonly cards: FakeTeamsCard[] = [];
  /** Every request: webhook id, status answered ('hang' for none), when. */
  readonly requests: { hook: string; status: number | 'hang'; at: number }[] = [];
  /** The next requests' answers, in order, before normal service resumes. */
  readonly answers: FakeTeamsAnswer[] = [];
  /** The webhook ids that exist; others answer 404. */
  readonly hooks = new Set<string>(['alerts']);
  url = '';
  private server?: Server;

  /** The URL of a webhook (as the Workflows app gives one: the path and its signature). */
  webhookUrl(hook = 'alerts'): string {
    return `${this.url}/workflows/${hook}/triggers/manual/paths/invoke?sig=fake-signature`;
  }

  async start(): Promise<string> {
    const app = express();
    app.use(express.json({ limit: '1mb' }));
    app.post('/workflows/:hook/triggers/manual/paths/invoke', (req, res) => {
      const hook = req.params.hook;
      const at = Date.now();
      const answer = this.answers.shift();
      if (answer === 'hang') {
        this.requests.push({ hook, status: 'hang', at });
        return; // never answers: the sender's timeout must end it
      }
      const reply = (status: number) => this.requests.push({ hook, status, at });
      if (answer?.status === 429) {
        reply(429);
        return void res.status(429).set('Retry-After', String(answer.retryAfter)).json({ error: { code: 'TooManyRequests', message: 'Rate limit is exceeded.' } });
      }
      if (answer?.status === 500) {
        reply(500);
        return void res.status(500).json({ error: { code: 'InternalServerError' } });
      }
      if (!this.hooks.has(hook) || req.query.sig !== 'fake-signature') {
        reply(404);
        return void res.status(404).json({ error: { code: 'TriggerNotFound' } });
      }
      const a = req.body?.attachments?.[0];
      if (req.body?.type !== 'message' || a?.contentType !== 'application/vnd.microsoft.card.adaptive' || a?.content?.type !== 'AdaptiveCard') {
        reply(400);
        return void res.status(400).json({ error: { code: 'InvalidRequestContent' } });
      }
      this.cards.push({ hook, card: a.content, at });
      reply(202);
      res.status(202).end();
    });
    await new Promise<void>((resolve) => {
      this.server = app.listen(0, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.server!.address() as { port: number }).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
