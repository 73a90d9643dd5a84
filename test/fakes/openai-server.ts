// A local server speaking OpenAI's chat-completions API as documented: POST
// /v1/chat/completions with a bearer key, answering a chat.completion object with usage.
// Modes: a valid triage JSON, garbage, a delay, 429 with Retry-After, 500; `faults` fails
// chosen requests (see faults.ts).
import express from 'express';
import type { Server } from 'node:http';
import { Faults, truncatedJson } from './faults.js';

export class FakeOpenAi {
  mode: 'ok' | 'garbage' | 'rate-limited' | 'error' = 'ok';
  delayMs = 0;
  readonly prompts: string[] = [];
  readonly requests: { method: string; path: string; status: number }[] = [];
  /** Fault injection in OpenAI's documented error shapes (see faults.ts). */
  readonly faults = new Faults('openai', {
    unavailable: (res) => void res.status(503).json({ error: { message: 'The server is overloaded or not ready yet.', type: 'server_error', param: null, code: null } }),
    rateLimited: (res) =>
      void res
        .status(429)
        .set({ 'retry-after': '1', 'x-ratelimit-reset-requests': '1s' })
        .json({ error: { message: 'Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s.', type: 'requests', param: null, code: 'rate_limit_exceeded' } }),
    unauthorized: (res) => void res.status(401).json({ error: { message: 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }),
    malformed: (res) =>
      truncatedJson(res, {
        id: 'chatcmpl-malformed',
        object: 'chat.completion',
        created: 1721172741,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: '{"root_cause":"cut short"}' }, finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens: 420, completion_tokens: 96, total_tokens: 516 },
      }),
  });
  private server?: Server;
  url = '';

  constructor(readonly apiKey: string) {}

  async start(): Promise<string> {
    const app = express();
    app.use(express.json({ limit: '2mb' }));
    app.use((req, res, next) => {
      res.on('finish', () => this.requests.push({ method: req.method, path: req.path, status: res.statusCode }));
      next();
    });
    app.use(this.faults.middleware());
    app.get('/v1/models', (req, res) => {
      if (req.headers.authorization !== `Bearer ${this.apiKey}`) return void res.status(401).json({ error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } });
      res.json({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created: 1721172741, owned_by: 'system' }] });
    });
    app.post('/v1/chat/completions', async (req, res) => {
      if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
        return void res.status(401).json({ error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } });
      }
      if (this.mode === 'rate-limited') return void res.status(429).set('retry-after', '1').json({ error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } });
      if (this.mode === 'error') return void res.status(500).json({ error: { message: 'The server had an error', type: 'server_error' } });
      this.prompts.push(JSON.stringify(req.body.messages));
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      const content =
        this.mode === 'garbage'
          ? 'Sure! The root cause is probably the price list.'
          : JSON.stringify({
              root_cause: 'Product 999 has no price in the POS master data',
              category: 'data',
              confidence: 0.86,
              suggestions: [
                { priority: 1, action: 'Set the price of product 999 in the master data', estimated_time: '10m', automation_possible: false },
                { priority: 2, action: 'Re-run the failed orders', estimated_time: '5m', automation_possible: true },
              ],
            });
      res.json({
        id: `chatcmpl-${Date.now()}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: req.body.model,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens: 420, completion_tokens: 96, total_tokens: 516 },
      });
    });
    this.server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/v1`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.faults.close();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
