// stacklens pos … / stacklens chatbot …: append simulator lines to a log file.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { SCENARIOS, posErrorLine, posOrderLine, chatbotTurn, rng, type Scenario } from '@stacklens/demo';

export const POS_HELP = `Usage: stacklens pos --scenario <name> --file <path> [--count 1] [--store STORE_001] [--kiosk KIOSK_001] [--product 999] [--seed N]

Appends POS log lines to a file (created if missing).
Scenarios: ${SCENARIOS.join(', ')}, order (a normal completed order).
Example: stacklens pos --scenario missing-price --store STORE_001 --count 5 --file /var/log/pos/pos.log`;

export const CHATBOT_HELP = `Usage: stacklens chatbot --file <path> [--count 1] [--error-rate 0.03] [--slow] [--seed N]

Appends chat-bot conversation turns (a user's message and the bot's answer or error,
one JSON object per line) to a file. --slow makes the bot answer in 2.5–6 s.
Example: stacklens chatbot --count 50 --error-rate 0.2 --file /var/log/chatbot/bot.log`;

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number ≥ 0, got "${value}"`);
  return n;
}

export function posCommand(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: { scenario: { type: 'string' }, file: { type: 'string' }, count: { type: 'string' }, store: { type: 'string' }, kiosk: { type: 'string' }, product: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${POS_HELP}\n`);
    return 0;
  }
  const scenario = values.scenario;
  if (!scenario || !values.file) {
    process.stderr.write(`stacklens pos: --scenario and --file are required\n\n${POS_HELP}\n`);
    return 2;
  }
  if (scenario !== 'order' && !(SCENARIOS as readonly string[]).includes(scenario)) {
    process.stderr.write(`stacklens pos: unknown scenario "${scenario}"; one of: ${SCENARIOS.join(', ')}, order\n`);
    return 2;
  }
  const count = positiveInt(values.count, 'count', 1);
  const rand = rng(values.seed ? Number(values.seed) : undefined);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const opts = { store: values.store, kiosk: values.kiosk, product: values.product === undefined ? undefined : positiveInt(values.product, 'product', 0), rand };
    lines.push(scenario === 'order' ? posOrderLine(opts) : posErrorLine(scenario as Scenario, opts));
  }
  mkdirSync(dirname(values.file), { recursive: true });
  appendFileSync(values.file, lines.map((l) => `${l}\n`).join(''));
  process.stdout.write(`appended ${count} ${scenario} line(s) to ${values.file}\n`);
  return 0;
}

export function chatbotCommand(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { file: { type: 'string' }, count: { type: 'string' }, 'error-rate': { type: 'string' }, slow: { type: 'boolean' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${CHATBOT_HELP}\n`);
    return 0;
  }
  if (!values.file) {
    process.stderr.write(`stacklens chatbot: --file is required\n\n${CHATBOT_HELP}\n`);
    return 2;
  }
  const count = positiveInt(values.count, 'count', 1);
  const errorRate = values['error-rate'] === undefined ? 0.03 : Number(values['error-rate']);
  if (!(errorRate >= 0 && errorRate <= 1)) throw new Error(`--error-rate must be between 0 and 1, got "${values['error-rate']}"`);
  const rand = rng(values.seed ? Number(values.seed) : undefined);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(...chatbotTurn(rand, new Date(), errorRate, values.slow ?? false));
  mkdirSync(dirname(values.file), { recursive: true });
  appendFileSync(values.file, lines.map((l) => `${l}\n`).join(''));
  process.stdout.write(`appended ${count} conversation turn(s) (${lines.length} lines) to ${values.file}\n`);
  return 0;
}
