// Xero custom connection (client credentials): business context for triage.
import { z } from 'zod';
import { durationMs, httpUrl } from '@stacklens/common';
import { defineIntegration, shown } from './descriptor.js';

export const xeroSchema = z.strictObject({
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  tenant_id: z.string().min(1),
  base_url: httpUrl().default('https://api.xero.com/api.xro/2.0'),
  token_url: httpUrl().default('https://identity.xero.com/connect/token'),
  timeout: durationMs().default(10_000),
});

export const xero = defineIntegration({
  type: 'xero',
  service: 'Xero',
  configSchema: xeroSchema,
  secretKeys: ['client_secret'],
  destinationKeys: ['base_url', 'token_url'],
  async test(settings) {
    const { Xero } = await import('../xero.js');
    const said = await new Xero(settings).test();
    return `token obtained; organisation ${shown(/^token obtained; organisation (.*)$/.exec(said)?.[1])}`;
  },
  capabilities: () => ['xero'],
});
