// /api/admin/integrations — admin token only. Create, read, replace, delete, enable,
// disable and test integrations. Answers never carry a credential: secrets are write-only.
// Every change and test, refused or not, leaves an audit record (who, which integration, why refused).
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

type Action = 'create' | 'update' | 'delete' | 'enable' | 'disable' | 'test';
/** What a route did: to which integration, and why it failed when it answered a failure itself. */
interface Done {
  target: string;
  failure?: string;
}

const MAX_TEST_MESSAGE = 200;

export function createIntegrationsApi(deps: IntegrationsApiDeps, gate: Gate): Router {
  const api = express.Router();
  // Integrations serve every team: a team-scoped admin may not read or change them.
  api.use(gate.api('admin'), gate.everyTeam());
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
  /** The public view, plus which stored secrets do not open here (moved, old format, another key). */
  const view = (i: StoredIntegration) => {
    const unreadable = store().unreadable(i);
    return { ...publicView(i), ...(unreadable.length ? { secrets_unreadable: unreadable } : {}) };
  };
  /** A route whose outcome is audited: success, its own failure, or the error it threw (IntegrationError messages name keys, never values). */
  const audited = (action: Action, handle: (req: Request, res: Response) => Promise<Done>) => async (req: Request, res: Response) => {
    const r = { action: `integration.${action}`, category: action === 'test' ? ('integration' as const) : ('configuration' as const) };
    let done: Done;
    try {
      done = await handle(req, res);
    } catch (err) {
      const target = req.params.id === undefined ? undefined : String(req.params.id);
      gate.record(req, res, { ...r, target, outcome: 'failure', reason: err instanceof IntegrationError ? err.message : 'internal error' });
      throw err;
    }
    gate.record(req, res, { ...r, target: done.target, outcome: done.failure === undefined ? 'success' : 'failure', reason: done.failure });
  };

  api.get('/', async (_req, res) => {
    res.json({ integrations: (await store().list()).map(view) });
  });
  api.post(
    '/',
    audited('create', async (req, res) => {
      const created = await store().create(req.body);
      await deps.changed();
      res.status(201).json(view(created));
      return { target: created.id };
    }),
  );
  api.get('/:id', async (req, res) => {
    res.json(view(await found(req)));
  });
  api.put(
    '/:id',
    audited('update', async (req, res) => {
      // Refused with 400 (nothing stored) when a destination changes without every stored secret: see IntegrationStore.update.
      const updated = await store().replace(String(req.params.id), req.body);
      await deps.changed();
      res.json(view(updated));
      return { target: updated.id };
    }),
  );
  api.delete(
    '/:id',
    audited('delete', async (req, res) => {
      if (!(await store().remove(String(req.params.id)))) throw new IntegrationError(`no integration ${req.params.id}`, 404);
      await deps.changed();
      res.json({ deleted: req.params.id });
      return { target: String(req.params.id) };
    }),
  );
  for (const [path, enabled] of [['enable', true], ['disable', false]] as const) {
    api.post(
      `/:id/${path}`,
      audited(path, async (req, res) => {
        const updated = await store().update(String(req.params.id), (cur) => ({ ...cur, enabled }));
        await deps.changed();
        res.json(view(updated));
        return { target: updated.id };
      }),
    );
  }
  api.post(
    '/:id/test',
    audited('test', async (req, res) => {
      const i = await found(req);
      // Secrets that do not open (moved here, old format, another key): a 409 saying which to store again; nothing is sent.
      const settings = store().resolve(i);
      let result: { ok: boolean; at: string; message: string };
      try {
        result = { ok: true, at: new Date().toISOString(), message: String(await deps.test(i.type, settings)).slice(0, MAX_TEST_MESSAGE) };
      } catch (err) {
        // deps.test words its failures for people (connection-tests.ts): a short reason, no remote text.
        result = { ok: false, at: new Date().toISOString(), message: String((err as Error)?.message ?? 'test failed').slice(0, MAX_TEST_MESSAGE) };
      }
      const updated = await store().update(i.id, (cur) => ({ ...cur, last_test: result }));
      res.status(result.ok ? 200 : 502).json(view(updated));
      return { target: i.id, failure: result.ok ? undefined : result.message };
    }),
  );

  api.use((err: unknown, _req: Request, res: Response, next: (err?: unknown) => void) => {
    if (err instanceof IntegrationError) return void res.status(err.status).json({ error: err.message });
    next(err);
  });
  return api;
}
