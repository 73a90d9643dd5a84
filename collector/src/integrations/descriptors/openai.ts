// Any OpenAI-compatible chat API: the AI triage of incidents.
import { z } from 'zod';
import { durationMs, httpUrl } from '@stacklens/common';
import { defineIntegration } from './descriptor.js';

export const openaiSchema = z.strictObject({
  base_url: httpUrl().default('https://api.openai.com/v1'),
  api_key: z.string().min(1),
  model: z.string().min(1).default('gpt-4o-mini'),
  timeout: durationMs().default(20_000),
});

export const openai = defineIntegration({
  type: 'openai',
  service: 'the OpenAI API',
  configSchema: openaiSchema,
  secretKeys: ['api_key'],
  destinationKeys: ['base_url'],
  async test(cfg) {
    const { default: OpenAI } = await import('openai');
    // As triage.ts's testOpenAi, but its error untouched: classifyOpenAiError words it with the remote message.
    const ids = (await new OpenAI({ baseURL: cfg.base_url, apiKey: cfg.api_key, timeout: cfg.timeout, maxRetries: 0 }).models.list()).data.map((m) => m.id);
    return ids.includes(cfg.model) ? `model ${cfg.model} available` : `connected; model ${cfg.model} not among the ${ids.length} listed`;
  },
  capabilities: () => ['llm'],
});
