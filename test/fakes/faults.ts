// One fault-injection facility for every protocol fake (Jira, OpenAI, Xero, Slack,
// Mattermost): `fake.faults.inject(kind, { times, match })` makes the next `times` requests
// that match fail the way that service fails, as its API documents it:
//   '503'           503 Service Unavailable
//   '429'           429 with Retry-After: 1 and the service's rate-limit body
//   '401'           the service's authentication error (Slack: HTTP 200 {ok:false, error:"invalid_auth"})
//   'malformed'     200 with a body that is not what the API documents (truncated JSON)
//   'timeout'       the request is accepted and never answered (until the fault is cleared or
//                   the fake stops: then the connection is reset)
//   'refused'       the connection is reset at once (RST), nothing answered
//   'lost-response' the request is handled (Jira creates the issue …) but the answer is never
//                   sent (held like 'timeout')
// The middleware sits first in each fake's app, after body parsing and request logging, so a
// fault can match on what the request carries (a store id in a Jira summary, an OpenAI
// prompt, a Slack text) and hit one test's traffic only. Faults are tried in the order they
// were injected: inject('503') then inject('timeout') fails a first attempt with 503 and its
// retry with a timeout. What was served is counted per kind and kept in `hits`.
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export const FAULT_KINDS = ['503', '429', 'timeout', 'refused', 'malformed', '401', 'lost-response'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What a `match` sees of a request: `text` is "METHOD /url?query (decoded)\n<body as JSON>". */
export interface FaultRequest {
  method: string;
  path: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

/** A substring of the request text, a pattern over it, or a predicate. */
export type FaultMatch = string | RegExp | ((req: FaultRequest) => boolean);

export interface FaultOptions {
  /** How many matching requests fail (default 1; Infinity until cleared). */
  times?: number;
  /** Which requests (default: all). */
  match?: FaultMatch;
}

/** How a service answers each failure, in its documented shapes. */
export interface FaultProtocol {
  /** 503 Service Unavailable. */
  unavailable(res: Response): void;
  /** 429 with Retry-After: 1. */
  rateLimited(res: Response): void;
  /** The documented authentication error. */
  unauthorized(res: Response): void;
  /** 200 with a body that is not what the API documents. */
  malformed(res: Response): void;
}

export interface FaultHit {
  /** The fake that served it ('jira', 'openai', 'xero', 'slack', 'mattermost'). */
  service: string;
  kind: FaultKind;
  /** The request as `match` saw it. */
  request: FaultRequest;
  method: string;
  path: string;
  text: string;
  /** Date.now() when the request arrived. */
  at: number;
  /** lost-response: the status the handler answered (the answer that was never sent). */
  handled?: number;
  /** timeout, lost-response: when the held connection ended, and who ended it (the client giving up, or the fake). */
  endedAt?: number;
  endedBy?: 'client' | 'fake';
  fault: Fault;
}

export class Fault {
  served = 0;
  cleared = false;
  readonly hits: FaultHit[] = [];

  constructor(
    readonly kind: FaultKind,
    readonly times: number,
    readonly match: FaultMatch | undefined,
    private readonly owner: Faults,
  ) {}

  /** Still failing requests. */
  get active(): boolean {
    return !this.cleared && this.served < this.times;
  }

  /** Stop failing requests; requests it holds (timeout, lost-response) have their connection reset. */
  clear(): void {
    this.owner.clear(this);
  }
}

interface Held {
  fault: Fault;
  hit: FaultHit;
  req: Request;
  res: Response;
}

const safeDecode = (s: string) => {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
};

export function describeRequest(req: Request): FaultRequest {
  let body = '';
  if (typeof req.body === 'string') body = req.body;
  else if (Buffer.isBuffer(req.body)) body = req.body.toString('utf8');
  else if (req.body !== undefined) body = JSON.stringify(req.body);
  return { method: req.method, path: req.path, url: req.originalUrl, headers: req.headers, body: req.body, text: `${req.method} ${safeDecode(req.originalUrl)}\n${body}` };
}

function matches(match: FaultMatch | undefined, req: FaultRequest): boolean {
  if (match === undefined) return true;
  if (typeof match === 'string') return req.text.includes(match);
  if (match instanceof RegExp) return match.test(req.text);
  return match(req);
}

export class Faults {
  /** Requests failed, per kind, over the fake's life. */
  readonly counts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  /** Every request a fault was served to, in order. */
  readonly hits: FaultHit[] = [];
  private faults: Fault[] = [];
  private readonly held = new Set<Held>();

  constructor(
    readonly service: string,
    private readonly protocol: FaultProtocol,
  ) {}

  inject(kind: FaultKind, options: FaultOptions = {}): Fault {
    if (!FAULT_KINDS.includes(kind)) throw new Error(`unknown fault kind ${kind}`);
    const fault = new Fault(kind, options.times ?? 1, options.match, this);
    this.faults.push(fault);
    return fault;
  }

  /** Clear one fault (or all): it fails no more requests and the requests it holds are reset. */
  clear(fault?: Fault): void {
    const gone = fault ? [fault] : this.faults;
    for (const f of gone) f.cleared = true;
    this.faults = fault ? this.faults.filter((f) => f !== fault) : [];
    for (const h of [...this.held]) if (!fault || h.fault === fault) this.reset(h);
  }

  /** Requests held unanswered right now (timeout, lost-response). */
  get holding(): number {
    return this.held.size;
  }

  /** Reset the connection of one held request (the others stay held, the fault stays). */
  release(hit: FaultHit): void {
    for (const h of [...this.held]) if (h.hit === hit) this.reset(h);
  }

  /** The server is stopping: every held connection is reset (server.close() would wait for them). */
  close(): void {
    for (const h of [...this.held]) this.reset(h);
  }

  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      if (!this.faults.some((f) => f.active)) return next();
      const request = describeRequest(req);
      const fault = this.faults.find((f) => f.active && matches(f.match, request));
      if (!fault) return next();
      fault.served++;
      this.counts[fault.kind]++;
      const hit: FaultHit = { service: this.service, kind: fault.kind, request, method: req.method, path: req.path, text: request.text, at: Date.now(), fault };
      this.hits.push(hit);
      fault.hits.push(hit);
      switch (fault.kind) {
        case '503':
          return this.protocol.unavailable(res);
        case '429':
          return this.protocol.rateLimited(res);
        case '401':
          return this.protocol.unauthorized(res);
        case 'malformed':
          return this.protocol.malformed(res);
        case 'refused': {
          // A reset, not a close: the client sees ECONNRESET, as when a proxy or the service drops it.
          const socket = req.socket as typeof req.socket & { resetAndDestroy?: () => void };
          if (socket.resetAndDestroy) socket.resetAndDestroy();
          else socket.destroy();
          return;
        }
        case 'timeout':
          this.hold(fault, hit, req, res);
          return;
        case 'lost-response':
          this.hold(fault, hit, req, res);
          // The handler runs (the issue is created …); whatever it answers goes nowhere.
          res.writeHead = (() => res) as never;
          res.write = (() => true) as never;
          res.end = ((..._args: unknown[]) => {
            hit.handled = res.statusCode;
            return res;
          }) as never;
          return next();
      }
    };
  }

  private hold(fault: Fault, hit: FaultHit, req: Request, res: Response): void {
    const h: Held = { fault, hit, req, res };
    this.held.add(h);
    // The client gave up (its timeout) or went away — unless the fake reset it first.
    req.socket.once('close', () => {
      if (!this.held.delete(h)) return;
      hit.endedAt = Date.now();
      hit.endedBy = 'client';
    });
  }

  private reset(h: Held): void {
    if (!this.held.delete(h)) return;
    h.hit.endedAt = Date.now();
    h.hit.endedBy = 'fake';
    const socket = h.req.socket as typeof h.req.socket & { resetAndDestroy?: () => void };
    if (socket.destroyed) return;
    if (socket.resetAndDestroy) socket.resetAndDestroy();
    else socket.destroy();
  }
}

/** A JSON body cut short, sent as a 200 with the JSON content type (what a dying proxy or a crashed writer leaves). */
export function truncatedJson(res: Response, complete: unknown, contentType = 'application/json'): void {
  const text = JSON.stringify(complete);
  res.status(200).setHeader('Content-Type', contentType);
  res.end(text.slice(0, Math.max(1, Math.floor(text.length / 2))));
}
