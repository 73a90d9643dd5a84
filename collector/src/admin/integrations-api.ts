// /api/admin/integrations — admin token only. Create, read, replace, delete, enable,
// disable and test integrations. Answers never carry a credential: secrets are write-only.
import express, { type Request, type Response, type Router } from 'express';
import type { Gate } from '../security/gate.js';
import { IntegrationError, publicView, type IntegrationStore, type StoredIntegration } from './integrations.js';

export interface IntegrationsApiDeps {
  /** The store, or why there is none (no encryption key in the environment). */
  store: IntegrationStore | string;
  /** Runs a connection test with full settings; resolves to a message, rejects with the reason. */
  test: (type: string, settings: Record<string, unknown>) => Promise<string>;
  /** Called after every change, to reconfigure the running integrations. */
  changed: () => Promise<void>;
}

export function createIntegrationsApi(deps: IntegrationsApiDeps, gate: Gate): Router {
  const api = express.Router();
  api.use(gate.api('admin'));
  api.use(express.json({ limit: '64kb' }));
  api.use((_req, res, next) => {
    if (typeof deps.store === 'string') return void res.status(503).json({ error: `integrations cannot be stored: ${deps.store}` });
    next();
  });
  const store = () => deps.store as IntegrationStore;
  const found = async (req: Request): Promise<StoredIntegration> => {
    const i = await store().get(String(req.params.id));
    if (!i) throw new IntegrationError(`no integration ${req.params.id}`, 404);
    return i;
  };

  api.get('/', async (_req, res) => {
    res.json({ integrations: (await store().list()).map(publicView) });
  });
  api.post('/', async (req, res) => {
    const created = await store().create(req.body);
    await deps.changed();
    res.status(201).json(publicView(created));
  });
  api.get('/:id', async (req, res) => {
    res.json(publicView(await found(req)));
  });
  api.put('/:id', async (req, res) => {
    const updated = await store().replace(String(req.params.id), req.body);
    await deps.changed();
    res.json(publicView(updated));
  });
  api.delete('/:id', async (req, res) => {
    if (!(await store().remove(String(req.params.id)))) throw new IntegrationError(`no integration ${req.params.id}`, 404);
    await deps.changed();
    res.json({ deleted: req.params.id });
  });
  for (const [path, enabled] of [['enable', true], ['disable', false]] as const) {
    api.post(`/:id/${path}`, async (req, res) => {
      const updated = await store().update(String(req.params.id), (cur) => ({ ...cur, enabled }));
      await deps.changed();
      res.json(publicView(updated));
    });
  }
  api.post('/:id/test', async (req, res) => {
    const i = await found(req);
    let result: { ok: boolean; at: string; message: string };
    try {
      result = { ok: true, at: new Date().toISOString(), message: await deps.test(i.type, store().resolve(i)) };
    } catch (err) {
      result = { ok: false, at: new Date().toISOString(), message: (err as Error).message.slice(0, 500) };
    }
    const updated = await store().update(i.id, (cur) => ({ ...cur, last_test: result }));
    res.status(result.ok ? 200 : 502).json(publicView(updated));
  });

  api.use((err: unknown, _req: Request, res: Response, next: (err?: unknown) => void) => {
    if (err instanceof IntegrationError) return void res.status(err.status).json({ error: err.message });
    next(err);
  });
  return api;
}
