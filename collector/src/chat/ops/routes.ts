// The chat endpoints: Slack slash commands, interactivity and Events API (all verified by
// the signing secret on the raw body), Mattermost slash commands (command token) and
// interactive actions (the context signature). Slack wants an answer within 3 seconds: a
// command that takes longer answers "working on it" and follows up through response_url.
// Every refused request (bad signature or token, replay, stale button) is audited; what the
// person may do once authenticated is ChatOps' (chatops.ts, alerts/routing.ts mayAct).
import express, { type Request, type Response, type Router } from 'express';
import { sameSecret } from '../../security/same-secret.js';
import type { Logger } from '@stacklens/common';
import { SlackVerifier } from './slack-signature.js';
import type { SlackEvents } from '../capture/slack-events.js';
import type { ChatOps, Reply } from './chatops.js';
import type { Actor } from '../alerts/routing.js';
import { ACTIONS, type ChatAction } from '../alerts/render.js';
import type { ActionSigner } from '../alerts/mattermost.js';
import type { Client } from '@elastic/elasticsearch';
import { SlackReplayGuard } from './replay-guard.js';
import type { AuditLog } from '../../security/audit.js';

export interface ChatRoutesDeps {
  ops: ChatOps;
  log: Logger;
  /** How long a command may take before "working on it" is answered. */
  answerWithinMs: () => number;
  slack?: () => { signingSecret?: string; events?: SlackEvents; indexMessages: boolean } | undefined;
  mattermost?: () => { commandToken?: string; signer?: ActionSigner } | undefined;
  /** Where Slack replay protection is shared by every collector (replay-guard.ts); without it, this process's memory only. */
  es?: Client;
  audit?: AuditLog;
  /** Slack's app_uninstalled / tokens_revoked: true when the event was one (handled). */
  uninstall?: (envelope: unknown) => Promise<boolean>;
}

const ACTION_IDS = new Set<string>(ACTIONS.map((a) => a.id));
/** A field of a request body, when it is a non-empty string (anything else: absent). */
const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
const raw = express.raw({ type: () => true, limit: '1mb' });

export function createChatRoutes(deps: ChatRoutesDeps): Router {
  const router = express.Router();
  const verifiers = new Map<string, SlackVerifier>();
  const replay = deps.es && new SlackReplayGuard(deps.es, deps.log);

  const verifierFor = (secret: string) => {
    let verifier = verifiers.get(secret);
    if (!verifier) verifiers.set(secret, (verifier = new SlackVerifier(secret)));
    return verifier;
  };

  /** Answer `status` with `reason`, and put the refusal in the audit trail (nobody is identified: the request is not trusted). */
  const refuse = (req: Request, res: Response, status: number, via: string, action: string, reason: string, target?: string) => {
    deps.log.warn({ path: req.path, reason }, `${via} request refused`);
    deps.audit?.record({ action, category: 'authentication', outcome: 'failure', reason, target, via, source: req.socket.remoteAddress, requestId: res.locals.requestId, method: req.method, path: req.originalUrl.split('?')[0] });
    res.status(status).json({ error: reason });
  };

  /**
   * 401 unless the request carries a valid, fresh, unreplayed Slack signature. Replays are
   * caught in memory first (cheap), then by Elasticsearch (every collector, any restart).
   */
  const verifySlack = async (req: Request, res: Response): Promise<boolean> => {
    const secret = deps.slack?.()?.signingSecret;
    if (!secret) {
      res.status(404).json({ error: 'Slack is not configured (integrations.slack.signing_secret)' });
      return false;
    }
    const verifier = verifierFor(secret);
    let verdict = verifier.verify(req.headers, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
    if (verdict.ok && replay) {
      try {
        if ((await replay.claim(String(req.headers['x-slack-signature']), Number(req.headers['x-slack-request-timestamp']))) === 'replayed') verdict = { ok: false, reason: 'request already received (replayed)' };
      } catch (err) {
        // Fail closed: unchecked is not accepted. Slack's retry (a new signature) may pass.
        verifier.forget(req.headers);
        deps.log.warn({ path: req.path, err: (err as Error).message }, 'Slack request not checked for replay: Elasticsearch did not answer');
        res.status(503).set('Retry-After', '1').json({ error: 'cannot check the request for replay now (Elasticsearch did not answer); retry' });
        return false;
      }
    }
    if (verdict.ok) return true;
    refuse(req, res, 401, 'slack', 'auth.slack_signature', `invalid Slack request: ${verdict.reason}`);
    return false;
  };

  const origin = (req: Request, res: Response) => ({ source: req.socket.remoteAddress, requestId: res.locals.requestId as string | undefined });

  router.post('/slack/commands', raw, async (req, res) => {
    if (!(await verifySlack(req, res))) return;
    const f = new URLSearchParams(req.body.toString('utf8'));
    const actor: Actor = { platform: 'slack', workspace: f.get('team_id') ?? '', user_id: f.get('user_id') ?? '', user_name: f.get('user_name') ?? undefined, channel_id: f.get('channel_id') ?? undefined, channel_name: f.get('channel_name') ?? undefined, origin: origin(req, res) };
    await answer(res, deps.ops.command(actor, f.get('text') ?? ''), f.get('response_url'), slackBody, deps);
  });

  router.post('/slack/actions', raw, async (req, res) => {
    if (!(await verifySlack(req, res))) return;
    let payload: any;
    try {
      payload = JSON.parse(new URLSearchParams(req.body.toString('utf8')).get('payload') ?? '');
    } catch {
      return void res.status(400).json({ error: 'body must be a form with a JSON "payload"' });
    }
    const a = payload?.actions?.[0];
    const action = typeof a?.action_id === 'string' ? a.action_id.replace(/^stacklens_/, '') : '';
    if (payload?.type !== 'block_actions' || !ACTION_IDS.has(action) || typeof a.value !== 'string') return void res.status(200).end(); // not one of our buttons
    // The workspace the button was clicked in (team.id), not the user's home team.
    const actor: Actor = { platform: 'slack', workspace: str(payload.team?.id) ?? '', user_id: str(payload.user?.id) ?? '', user_name: str(payload.user?.username) ?? str(payload.user?.name), channel_id: str(payload.channel?.id), channel_name: str(payload.channel?.name), origin: origin(req, res) };
    // Block actions are acknowledged with an empty 200; what happened goes to response_url.
    const work = deps.ops.act(actor, a.value, action as ChatAction);
    res.status(200).end();
    const reply = await work.catch((err) => ({ text: `StackLens could not do that: ${(err as Error).message}` }) as Reply);
    await followUp(payload.response_url, { response_type: 'ephemeral', replace_original: false, text: reply.text }, deps.log);
  });

  router.post('/slack/events', raw, async (req, res) => {
    if (!(await verifySlack(req, res))) return;
    let envelope: any;
    try {
      envelope = JSON.parse(req.body.toString('utf8'));
    } catch {
      return void res.status(400).json({ error: 'body is not JSON' });
    }
    if (envelope?.type === 'url_verification') return void res.json({ challenge: envelope.challenge });
    const slack = deps.slack?.();
    if (envelope?.type === 'event_callback' && deps.uninstall) {
      try {
        if (await deps.uninstall(envelope)) return void res.status(200).end();
      } catch (err) {
        deps.log.warn({ event_id: envelope.event_id, err: (err as Error).message }, 'Slack uninstall not recorded; Slack will retry');
        await replay?.forget(String(req.headers['x-slack-signature']));
        return void res.status(503).json({ error: 'event not handled; retry' });
      }
    }
    if (envelope?.type !== 'event_callback' || !slack?.events || !slack.indexMessages) return void res.status(200).end();
    try {
      const outcome = await slack.events.handle(envelope);
      res.setHeader('X-StackLens-Event', outcome);
      res.status(200).end();
    } catch (err) {
      // Not stored: a 5xx makes Slack send the event again (up to three times).
      deps.log.warn({ event_id: envelope.event_id, err: (err as Error).message }, 'Slack event not stored; Slack will retry');
      if (slack.signingSecret) verifierFor(slack.signingSecret).forget(req.headers);
      await replay?.forget(String(req.headers['x-slack-signature']));
      res.status(503).json({ error: 'event not stored; retry' });
    }
  });

  router.post('/mattermost/commands', express.urlencoded({ extended: false, limit: '64kb' }), express.json({ limit: '64kb' }), async (req, res) => {
    const expected = deps.mattermost?.()?.commandToken;
    if (!expected) return void res.status(404).json({ error: 'Mattermost commands are not configured (integrations.mattermost.command_token)' });
    const b = req.body ?? {};
    const given = typeof b.token === 'string' ? b.token : (/^Token\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '');
    if (!sameSecret(given, expected)) return refuse(req, res, 401, 'mattermost', 'auth.mattermost_token', 'invalid Mattermost command token');
    const actor = mattermostActor(b, origin(req, res));
    await answer(res, deps.ops.command(actor, String(b.text ?? '')), b.response_url, mattermostBody, deps);
  });

  router.post('/mattermost/actions', express.json({ limit: '64kb' }), async (req, res) => {
    const signer = deps.mattermost?.()?.signer;
    if (!signer) return void res.status(404).json({ error: 'Mattermost is not configured' });
    const b = req.body ?? {};
    const c = b.context ?? {};
    // Mattermost does not sign action requests: the context's HMAC proves the button is ours,
    // still fresh, and clicked in the channel it was posted to; the person is checked by id.
    const why = signer.check(c, b.channel_id) ?? (ACTION_IDS.has(c.action) ? undefined : 'not one of the StackLens actions');
    if (why) return refuse(req, res, 401, 'mattermost', 'auth.mattermost_action', `invalid action: ${why}`, str(c.incident_id));
    const actor = mattermostActor(b, origin(req, res));
    const reply = await deps.ops.act(actor, c.incident_id, c.action);
    res.json({ ephemeral_text: reply.text });
  });

  return router;
}

/** Who a Mattermost request says is acting, where (team id and name, channel). */
function mattermostActor(b: any, origin: Actor['origin']): Actor {
  return { platform: 'mattermost', workspace: str(b.team_id) ?? '', workspace_name: str(b.team_domain), user_id: str(b.user_id) ?? '', user_name: str(b.user_name), channel_id: str(b.channel_id), channel_name: str(b.channel_name), origin };
}

const slackBody = (r: Reply) => ({ response_type: r.inChannel ? 'in_channel' : 'ephemeral', text: r.text });
const mattermostBody = (r: Reply) => ({ response_type: r.inChannel ? 'in_channel' : 'ephemeral', text: r.text });

/** Answer in time, or say "working on it" and follow up through response_url. */
async function answer(res: Response, work: Promise<Reply>, responseUrl: string | null | undefined, body: (r: Reply) => unknown, deps: ChatRoutesDeps): Promise<void> {
  const safe = work.catch((err) => {
    deps.log.warn({ err: (err as Error).message }, 'chat command failed');
    return { text: `StackLens could not answer: ${(err as Error).message}` } as Reply;
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), deps.answerWithinMs())));
  const first = await Promise.race([safe, late]);
  clearTimeout(timer);
  if (first !== 'late') return void res.json(body(first));
  res.json(body({ text: 'Working on it…' }));
  if (responseUrl) await followUp(responseUrl, body(await safe), deps.log);
}

/** POST to a response_url (Slack and Mattermost both give one); never logs the URL (it is a credential). */
async function followUp(url: unknown, body: unknown, log: Logger): Promise<void> {
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) return;
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) log.warn({ status: res.status }, 'response_url refused the follow-up');
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not reach response_url');
  }
}
