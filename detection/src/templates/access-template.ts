// The template of an HTTP access line (nginx, Apache, … — a header pattern read its method, URL
// and status into http.request.method, url.original and http.response.status_code):
// `GET /api/v1/orders/<*> 502` — the method, the path with its value segments as `<*>`, and the
// exact status. Mined word for word, without masks, so each endpoint and status is a template
// of its own: a 502 never shares one with a 200, and the rest of the line (client address, user
// agent, referrer, sizes) never splits one. A forward proxy's line (Squid) is another site's
// URL: its template is what the proxy did instead — `TCP_MISS/200 GET HIER_DIRECT`, the cache's
// result and status, the method and the route taken — so a cache hit never shares one with a
// miss or a denial, and no site or user splits one. A Cisco message (`%ASA-6-302013: Built …`)
// is its message id and its outcome words (ciscoTemplate). Any other event's template source is its
// message — PostgreSQL's STATEMENT / QUERY lines with that label before it (templateSource).
import { fieldValue } from '../fields.js';
import { WILDCARD } from './masks.js';
import { isOutcomeWord } from './outcome-words.js';

/** A text that is a template already (its values replaced): the miner takes its words as they are. */
export class TemplateText {
  constructor(
    readonly text: string,
    /** What the event says (kept as the template's example). */
    readonly example: string,
  ) {}
}

/** Path segments kept; deeper ones are one `<*>`. */
const MAX_SEGMENTS = 8;
const METHOD = /^[A-Za-z]{1,16}$/;
const STATUS = /^[1-5]\d\d$/;
/** PostgreSQL's labels for the statement an error was about (its header reads them as the level). */
const STATEMENT_LEVELS = new Set(['STATEMENT', 'QUERY']);

/** What the miner mines for this document: an access line's method, path shape and status, else its message (a statement's with its label). */
export function templateSource(doc: unknown): unknown {
  const message = fieldValue(doc, 'message');
  // PostgreSQL's STATEMENT / QUERY lines (the failed statement after an ERROR: the header read
  // the label as the level) are mined with their label, so the statement is one value (masks.ts).
  const level = fieldValue(doc, 'log.level');
  if (typeof message === 'string' && typeof level === 'string' && STATEMENT_LEVELS.has(level.toUpperCase())) return `statement: ${message}`;
  const cisco = ciscoTemplate(fieldValue(doc, 'process.name'), message);
  if (cisco !== undefined) return new TemplateText(cisco, message as string);
  const method = fieldValue(doc, 'http.request.method');
  const url = fieldValue(doc, 'url.original');
  const status = fieldValue(doc, 'http.response.status_code');
  const proxy = proxyTemplate(doc, method, status, url);
  if (proxy !== undefined) return new TemplateText(proxy, typeof message === 'string' ? message : proxy);
  if (typeof method !== 'string' || typeof url !== 'string' || !METHOD.test(method) || !STATUS.test(String(status))) return message;
  return new TemplateText(`${method.toUpperCase()} ${pathShape(url)} ${status}`, typeof message === 'string' ? message : `${method} ${url} ${status}`);
}

/** Cisco's message tag (`%ASA-6-302013`, IOS `%LINK-3-UPDOWN`, a stack member's `%LINK-SW1-3-UPDOWN`): syslog's header reads it as the program. */
const CISCO_TAG = /^%[A-Z][A-Z0-9_]*(?:-[A-Z0-9_]+)?-[0-7]-[A-Z0-9_]+$/;
/** … or it is in the message's first characters, after a header of another layout (IOS's `52: *Mar 12 07:37:07.123: %LINK-3-UPDOWN: …`, ASA's `fw-edge-01 : %ASA-6-605005: …`). */
const CISCO_TAG_IN = /(?:^|\s)(%[A-Z][A-Z0-9_]*(?:-[A-Z0-9_]+)?-[0-7]-[A-Z0-9_]+):\s/;
const CISCO_TAG_WITHIN = 96;

/**
 * A Cisco message as its tag and the words saying how it went, in order (`%ASA-6-302014`,
 * `%ASA-6-302014 timeout`, `%ASA-4-106100 denied`, `%LINK-3-UPDOWN down`), else undefined.
 * Cisco documents one format per message id, so its values — interfaces, addresses,
 * protocols, flags, users — never split it; its outcome and state words (outcome-words.ts) do,
 * as everywhere: a link going down never shares a template with one coming up, a denial with a
 * permit. Words in quotes are values (`User 'failed' executed 'logging enable'`).
 */
function ciscoTemplate(program: unknown, message: unknown): string | undefined {
  if (typeof message !== 'string') return undefined;
  let tag: string;
  let text = message;
  if (typeof program === 'string' && CISCO_TAG.test(program)) tag = program;
  else {
    const percent = message.indexOf('%');
    if (percent < 0 || percent > CISCO_TAG_WITHIN) return undefined;
    const m = CISCO_TAG_IN.exec(message.slice(0, CISCO_TAG_WITHIN + 64));
    if (!m) return undefined;
    tag = m[1];
    text = message.slice(m.index + m[0].length);
  }
  let template = tag;
  const seen = new Set<string>();
  let quote = '';
  for (const token of text.split(/\s+/)) {
    if (quote !== '') {
      if (closesQuote(token, quote)) quote = '';
      continue;
    }
    const open = token.charAt(0);
    if (open === "'" || open === '"') {
      if (!closesQuote(token.slice(1), open)) quote = open;
      continue;
    }
    const word = token.toLowerCase().replace(/^\W+|\W+$/g, '');
    if (word !== '' && !seen.has(word) && isOutcomeWord(word)) {
      seen.add(word);
      template += ` ${word}`;
    }
  }
  return template;
}

/** Whether a token ends the quote `quote` opened (its last quote before closing punctuation). */
function closesQuote(token: string, quote: string): boolean {
  return token.replace(/[)\],.;:!?]+$/, '').endsWith(quote);
}

/** Squid's header (agent/src/parsers/header-patterns.ts `squid`) reads its cache result and its route into these. */
const PROXY_RESULT = 'event.action';
const PROXY_ROUTE = 'squid.hierarchy_code';
const PROXY_CODE = /^[A-Z][A-Z0-9_]{0,39}$/;
const PROXY_METHOD = /^[A-Za-z_-]{1,24}$/;

/** Squid's pseudo-URL for a request it could not read (`error:invalid-request`): which error, so part of the template. */
const PROXY_ERROR_URL = /^error:[a-z][a-z0-9-]{0,63}$/;

/**
 * A forward proxy's access line as `TCP_MISS/200 GET HIER_DIRECT` (status 000: no answer; `-`:
 * no method read), with Squid's error pseudo-URL after it (`NONE_NONE/400 - HIER_NONE
 * error:invalid-request`), else undefined.
 */
function proxyTemplate(doc: unknown, method: unknown, status: unknown, url: unknown): string | undefined {
  const result = fieldValue(doc, PROXY_RESULT);
  const route = fieldValue(doc, PROXY_ROUTE);
  if (typeof result !== 'string' || typeof route !== 'string' || !PROXY_CODE.test(result) || !PROXY_CODE.test(route)) return undefined;
  if ((method !== undefined && (typeof method !== 'string' || !PROXY_METHOD.test(method))) || !/^\d{1,3}$/.test(String(status))) return undefined;
  const template = `${result}/${String(status).padStart(3, '0')} ${typeof method === 'string' ? method : '-'} ${route}`;
  return typeof url === 'string' && PROXY_ERROR_URL.test(url) ? `${template} ${url}` : template;
}

/** `/api/v1/orders/12345?x=1` → `/api/<*>/orders/<*>`: segments holding a digit, or longer than 32 characters, are values. */
export function pathShape(url: string): string {
  let path = url;
  const scheme = path.indexOf('://');
  if (scheme > 0 && scheme < 12) {
    const slash = path.indexOf('/', scheme + 3);
    path = slash < 0 ? '/' : path.slice(slash);
  }
  const cut = path.search(/[?#;]/);
  if (cut >= 0) path = path.slice(0, cut);
  // `OPTIONS *`, `CONNECT host:443`: no path to shape.
  if (!path.startsWith('/')) return WILDCARD;
  const segments = path.split('/').slice(1);
  const out = segments.slice(0, MAX_SEGMENTS).map((s) => (/\d/.test(s) || s.length > 32 ? WILDCARD : s));
  if (segments.length > MAX_SEGMENTS) out.push(WILDCARD);
  return `/${out.join('/')}`;
}
