// The --pattern option of the commands that read log files as the agent does (templates
// mine, rules test): the header pattern of plain lines, chosen as the agent chooses it.
import { fileLines } from './file-lines.js';
import { AUTO_SAMPLE_LINES, detectHeaderPattern, headerPatternProblem, type Format } from '@stacklens/agent';

/**
 * The header pattern the lines are read with: for plain lines the one given, or (auto, the
 * default) the one the agent would choose from the file's first lines; none for the other
 * formats (they have their own structure). An Error names what is wrong with a given one.
 */
export async function headerOf(file: string, format: Format, given: string | undefined): Promise<string | undefined | Error> {
  if (format !== 'plain') return given === undefined ? undefined : new Error(`applies to --format plain only (the ${format} format has its own structure)`);
  if (given !== undefined && given !== 'auto') {
    const problem = headerPatternProblem(given);
    return problem ? new Error(problem) : given;
  }
  const sample: string[] = [];
  for await (const { text } of fileLines(file)) {
    if (text.trim() !== '' && !/^\s/.test(text)) sample.push(text);
    if (sample.length >= AUTO_SAMPLE_LINES) break;
  }
  return detectHeaderPattern(sample);
}
