// The chat endpoints: Slack slash commands, interactivity and Events API (all verified by
// the signing secret on the raw body), Mattermost slash commands (command token) and
// interactive actions (the context signature). Slack wants an answer within 3 seconds: a
// command that takes longer answers "working on it" and follows up through response_url.
import express, { type Request, type Response, type Router } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from '@stacklens/common';
import { SlackVerifier } from './slack-signature.js';
import type { SlackEvents } from './slack-events.js';
import type { ChatOps, Reply } from './chatops.js';
import type { Actor } from './routing.js';
import { ACTIONS, type ChatAction } from './render.js';
import type { ActionSigner } from './mattermost.js';

export interface ChatRoutesDeps {
  ops: ChatOps;
  log: Logger;
  /** How long a command may take before "working on it" is answered. */
  answerWithinMs: () => number;
  slack?: () => { signingSecret?: string; events?: SlackEvents; indexMessages: boolean } | undefined;
  mattermost?: () => { commandToken?: string; signer?: ActionSigner } | undefined;
}

const ACTION_IDS = new Set<string>(ACTIONS.map((a) => a.id));
const raw = express.raw({ type: () => true, limit: '1mb' });

export function createChatRoutes(deps: ChatRoutesDeps): Router {
  const router = express.Router();
  const verifiers = new Map<string, SlackVerifier>();

  const verifierFor = (secret: string) => {
    let verifier = verifiers.get(secret);
    if (!verifier) verifiers.set(secret, (verifier = new SlackVerifier(secret)));
    return verifier;
  };

  /** 401 unless the request carries a valid, fresh, unreplayed Slack signature. */
  const verifySlack = (req: Request, res: Response): boolean => {
    const secret = deps.slack?.()?.signingSecret;
    if (!secret) {
      res.status(404).json({ error: 'Slack is not configured (integrations.slack.signing_secret)' });
      return false;
    }
    const verifier = verifierFor(secret);
    const verdict = verifier.verify(req.headers, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
    if (verdict.ok) return true;
    deps.log.warn({ path: req.path, reason: verdict.reason }, 'Slack request refused');
    res.status(401).json({ error: `invalid Slack request: ${verdict.reason}` });
    return false;
  };

  router.post('/slack/commands', raw, async (req, res) => {
    if (!verifySlack(req, res)) return;
    const f = new URLSearchParams(req.body.toString('utf8'));
    const actor: Actor = { platform: 'slack', workspace: f.get('team_id') ?? '', user_id: f.get('user_id') ?? '', user_name: f.get('user_name') ?? undefined, channel_id: f.get('channel_id') ?? undefined, channel_name: f.get('channel_name') ?? undefined };
    await answer(res, deps.ops.command(actor, f.get('text') ?? ''), f.get('response_url'), slackBody, deps);
  });

  router.post('/slack/actions', raw, async (req, res) => {
    if (!verifySlack(req, res)) return;
    let payload: any;
    try {
      payload = JSON.parse(new URLSearchParams(req.body.toString('utf8')).get('payload') ?? '');
    } catch {
      return void res.status(400).json({ error: 'body must be a form with a JSON "payload"' });
    }
    const a = payload?.actions?.[0];
    const action = typeof a?.action_id === 'string' ? a.action_id.replace(/^stacklens_/, '') : '';
    if (payload?.type !== 'block_actions' || !ACTION_IDS.has(action) || typeof a.value !== 'string') return void res.status(200).end(); // not one of our buttons
    const actor: Actor = { platform: 'slack', workspace: payload.team?.id ?? payload.user?.team_id ?? '', user_id: payload.user?.id ?? '', user_name: payload.user?.username ?? payload.user?.name, channel_id: payload.channel?.id, channel_name: payload.channel?.name };
    // Block actions are acknowledged with an empty 200; what happened goes to response_url.
    const work = deps.ops.act(actor, a.value, action as ChatAction);
    res.status(200).end();
    const reply = await work.catch((err) => ({ text: `StackLens could not do that: ${(err as Error).message}` }) as Reply);
    await followUp(payload.response_url, { response_type: 'ephemeral', replace_original: false, text: reply.text }, deps.log);
  });

  router.post('/slack/events', raw, async (req, res) => {
    if (!verifySlack(req, res)) return;
    let envelope: any;
    try {
      envelope = JSON.parse(req.body.toString('utf8'));
    } catch {
      return void res.status(400).json({ error: 'body is not JSON' });
    }
    if (envelope?.type === 'url_verification') return void res.json({ challenge: envelope.challenge });
    const slack = deps.slack?.();
    if (envelope?.type !== 'event_callback' || !slack?.events || !slack.indexMessages) return void res.status(200).end();
    try {
      const outcome = await slack.events.handle(envelope);
      res.setHeader('X-StackLens-Event', outcome);
      res.status(200).end();
    } catch (err) {
      // Not stored: a 5xx makes Slack send the event again (up to three times).
      deps.log.warn({ event_id: envelope.event_id, err: (err as Error).message }, 'Slack event not stored; Slack will retry');
      if (slack.signingSecret) verifierFor(slack.signingSecret).forget(req.headers);
      res.status(503).json({ error: 'event not stored; retry' });
    }
  });

  router.post('/mattermost/commands', express.urlencoded({ extended: false, limit: '64kb' }), express.json({ limit: '64kb' }), async (req, res) => {
    const expected = deps.mattermost?.()?.commandToken;
    if (!expected) return void res.status(404).json({ error: 'Mattermost commands are not configured (integrations.mattermost.command_token)' });
    const b = req.body ?? {};
    const given = typeof b.token === 'string' ? b.token : (/^Token\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '');
    if (!sameSecret(given, expected)) {
      deps.log.warn({ path: req.path }, 'Mattermost command refused: bad token');
      return void res.status(401).json({ error: 'invalid Mattermost command token' });
    }
    const actor: Actor = { platform: 'mattermost', workspace: '', user_id: String(b.user_id ?? ''), user_name: b.user_name, channel_id: b.channel_id, channel_name: b.channel_name };
    await answer(res, deps.ops.command(actor, String(b.text ?? '')), b.response_url, mattermostBody, deps);
  });

  router.post('/mattermost/actions', express.json({ limit: '64kb' }), async (req, res) => {
    const signer = deps.mattermost?.()?.signer;
    if (!signer) return void res.status(404).json({ error: 'Mattermost is not configured' });
    const b = req.body ?? {};
    const c = b.context ?? {};
    if (!signer.verify(c.incident_id, c.action, c.sig) || !ACTION_IDS.has(c.action)) {
      deps.log.warn({ path: req.path }, 'Mattermost action refused: bad signature');
      return void res.status(401).json({ error: 'invalid action: its context is not signed by this StackLens' });
    }
    const actor: Actor = { platform: 'mattermost', workspace: '', user_id: String(b.user_id ?? ''), user_name: b.user_name, channel_id: b.channel_id, channel_name: b.channel_name };
    const reply = await deps.ops.act(actor, c.incident_id, c.action);
    res.json({ ephemeral_text: reply.text });
  });

  return router;
}

function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
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
