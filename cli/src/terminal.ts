// What the CLI prints of data it did not write (log messages, field values): anyone who can
// write a log line must not be able to drive the operator's terminal. Control characters —
// ESC (colours, cursor moves, window titles), BEL, backspace, C1 controls such as CSI
// (U+009B), bidi overrides — are shown as visible escapes instead of being obeyed; line
// breaks become ⏎ so one event stays one line.

const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const escapeOf = (c: string) => {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** Text safe to print on a terminal, on one line. */
export function printable(text: string): string {
  return text.replace(/\r?\n/g, ' ⏎ ').replace(/\t/g, ' ').replace(CONTROLS, escapeOf);
}

/**
 * A JSON line safe for a terminal: JSON.stringify escapes C0 controls already; C1 controls
 * and bidi overrides are left raw by it, so they are escaped here (still valid JSON).
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Colours only on a terminal, and never with NO_COLOR (https://no-color.org). */
const colourful = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;

/** `s` in an SGR colour (e.g. '1;31') when stdout is a colour terminal; as it is otherwise. */
export const paint = (code: string | undefined, s: string): string => (colourful && code ? `\x1b[${code}m${s}\x1b[0m` : s);

/** Colours of log levels, incident severities and statuses, the same in every command. */
export const LEVEL_COLOUR: Readonly<Record<string, string>> = { error: '31', fatal: '1;31', critical: '1;31', warn: '33', warning: '33', info: '32', debug: '2' };
export const SEVERITY_COLOUR: Readonly<Record<string, string>> = { critical: '1;31', high: '31', medium: '33', low: '36', info: '2' };
export const STATUS_COLOUR: Readonly<Record<string, string>> = { open: '1', acknowledged: '33', resolved: '32' };
