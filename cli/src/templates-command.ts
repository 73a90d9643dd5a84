// stacklens templates mine <file>: the message templates of a log file, mined offline with
// the collector's miner and configuration (template-catalog.ts, one miner per dataset) from
// the messages the agent would ship (its parser, header pattern and redaction).
// `--assignments` prints one line per input line, in order: <template id><TAB><template> —
// the interface benchmarks and outside checks read.
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { ContainerEnvelope, EventBuilder, FORMATS, REDACT_DEFAULTS, type Format, type LineContext, type InputConfig } from '@stacklens/agent';
import { headerOf } from './header-option.js';
import { fileLines } from './file-lines.js';
import { TemplateCatalog, templateSource } from '@stacklens/detection';
import { PROGRESS_FROM_BYTES, Progress } from './progress.js';

/** As the agent's default max_line_bytes. */
const MAX_LINE_BYTES = 1024 * 1024;
/** An example message is cut here (the text output shows 300 characters of it). */
const MAX_EXAMPLE_CHARS = 2000;

export const TEMPLATES_HELP = `Usage: stacklens templates mine <file> [--format plain|pos|chatbot|json|docker|cri] [--pattern NAME|GROK]
                                [--dataset NAME] [--assignments] [--json]
Mines the message templates of a log file offline, with the same miner and configuration as
the collector, and prints them: id, events, template (<*> marks a variable part), an example.
  --format       how to parse the lines (default: plain)
  --pattern      the header of plain lines: a shipped pattern name, a grok pattern, or auto
                 (default for plain: auto — detected from the first lines)
  --dataset      the dataset the lines belong to (template ids depend on it; default: the format)
  --assignments  print one line per input line instead: <template id><TAB><template>
                 (the template as it is at the end of the file; an empty line gets an empty id)
  --json         print the templates (or the assignments) as JSON
Files over 1 MiB show progress on stderr.
Example: stacklens templates mine /var/log/app/app.log --pattern auto | head -20`;

export async function templatesCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { format: { type: 'string' }, pattern: { type: 'string' }, dataset: { type: 'string' }, assignments: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    process.stderr.write(`stacklens templates: ${(err as Error).message}\n\n${TEMPLATES_HELP}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${TEMPLATES_HELP}\n`);
    return 0;
  }
  const [action, file] = positionals;
  if (action !== 'mine' || !file || positionals.length > 2) {
    process.stderr.write(`stacklens templates: expected "mine <file>"\n\n${TEMPLATES_HELP}\n`);
    return 2;
  }
  const format = (values.format ?? 'plain') as Format;
  if (!(FORMATS as readonly string[]).includes(format)) {
    process.stderr.write(`stacklens templates: --format must be one of ${FORMATS.join(', ')}, got "${values.format}"\n`);
    return 2;
  }
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new Error('it is a directory; give a log file');
    size = st.size;
  } catch (err) {
    process.stderr.write(`stacklens templates: cannot read ${file}: ${(err as Error).message}\n`);
    return 1;
  }
  const dataset = values.dataset ?? format;
  const input = { paths: [file], format, dataset, namespace: 'default', max_line_bytes: MAX_LINE_BYTES, close_inactive: 0, redact: REDACT_DEFAULTS } as InputConfig;
  const header = await headerOf(file, format, values.pattern);
  if (header instanceof Error) {
    process.stderr.write(`stacklens templates: --pattern: ${header.message}\n`);
    return 2;
  }
  if (header) Object.assign(input, { pattern: header });
  const builder = new EventBuilder('templates-mine', hostname(), input);
  const catalog = new TemplateCatalog(undefined);
  const progress = size >= PROGRESS_FROM_BYTES ? new Progress(size, 'mined') : undefined;
  /** Per input line: the template id ("" for a line without a message). */
  const assigned: string[] = [];
  const seen = new Map<string, { count: number; example: string }>();
  let events = 0;
  /** One record (a line, or a container's record, which may join several lines): mined, and its id given to its lines. */
  const mine = (text: string, offset: number, lines: number[], ctx?: LineContext) => {
    let id = '';
    if (text.trim() !== '') {
      const event = builder.build(text, file, 'offline', offset, ctx);
      // A line the parser refuses is still a message: the collector would keep it as a dead letter; here its text is mined.
      const message = event.error ? text : (event.doc.message ?? text);
      id = catalog.assignNow(dataset, event.error ? text : (templateSource(event.doc) ?? text)).id;
      events++;
      const s = seen.get(id);
      if (s) s.count++;
      else seen.set(id, { count: 1, example: String(message).slice(0, MAX_EXAMPLE_CHARS) });
    }
    for (const i of lines) assigned[i] = id;
  };
  // docker and cri lines are container records: unwrapped (partial records joined) as the agent does.
  /** Input lines not covered by a record yet (a partial record waits for its end): index → offset. */
  const waiting = new Map<number, number>();
  const envelope =
    format === 'docker' || format === 'cri'
      ? new ContainerEnvelope(format, MAX_LINE_BYTES, (r) => {
          const lines: number[] = [];
          for (const [i, at] of waiting) if (at >= r.offset && at < r.end) lines.push(i);
          for (const i of lines) waiting.delete(i);
          mine(r.text, r.offset, lines, r);
        })
      : undefined;
  for await (const { text: line, offset: lineOffset, end } of fileLines(file)) {
    const index = assigned.length;
    assigned.push('');
    if (envelope) {
      waiting.set(index, lineOffset);
      envelope.push(line, lineOffset, end);
    } else {
      mine(line, lineOffset, [index]);
    }
    progress?.update(end);
  }
  envelope?.flush();
  progress?.done();
  // Said for a pattern the user named (auto's fallback, generic, strips what it can and matches loosely).
  if (header && values.pattern && values.pattern !== 'auto' && values.pattern !== 'generic' && builder.patternMismatches > 0) {
    process.stderr.write(
      `stacklens templates: ${builder.patternMismatches} of ${events} lines did not match the header pattern (${header}): mined whole, as the agent ships them (flagged pattern_mismatch; the continuation lines of multi-line events count here unless the agent's input joins them with multiline)\n`,
    );
  }
  const texts = new Map(catalog.templates(dataset).map((t) => [t.id, t.template]));
  const textOf = (id: string) => texts.get(id) ?? '';
  if (values.assignments) {
    if (values.json) process.stdout.write(`${JSON.stringify(assigned.map((id) => ({ id, template: textOf(id) })))}\n`);
    else process.stdout.write(assigned.map((id) => `${id}\t${textOf(id)}\n`).join(''));
    return 0;
  }
  const list = [...seen].filter(([id]) => id !== '').map(([id, s]) => ({ id, count: s.count, template: textOf(id), example: s.example })).sort((a, b) => b.count - a.count || a.id.localeCompare(b.id));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ lines: assigned.length, templates: list }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`${assigned.length} lines → ${list.length} templates${header ? ` (header pattern: ${header})` : ''}\n`);
  for (const t of list) process.stdout.write(`\n${t.id}  ${t.count}  ${t.template}\n  e.g. ${t.example.slice(0, 300)}\n`);
  return 0;
}
