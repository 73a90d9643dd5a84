import type { LineParser } from './parse-error.js';
import { parsePosLine } from './pos.js';
import { parseChatbotLine } from './chatbot.js';
import { parseJsonLine, parsePlainLine } from './json.js';
import { parseContainerLine } from './container.js';

export { ParseError, type ParsedLine, type LineParser, type ParseContext } from './parse-error.js';
export { parseTimestamp } from './timestamp.js';

/**
 * The one place formats are registered: adding a format is one file (its parser) and one
 * line here; agent.yaml's `format` accepts exactly these names (config.ts reads them).
 */
export const PARSERS = {
  pos: parsePosLine,
  chatbot: parseChatbotLine,
  json: parseJsonLine,
  plain: parsePlainLine,
  docker: parseContainerLine,
  cri: parseContainerLine,
} satisfies Record<string, LineParser>;

export type Format = keyof typeof PARSERS;
export {
  compileHeaderPattern,
  detectHeaderPattern,
  headerPatternProblem,
  normalizeLevel,
  HEADER_PATTERNS,
  HEADER_PATTERN_NAMES,
  GROK_LIBRARY,
  HeaderPatternError,
  PATTERN_MISMATCH,
  AUTO_SAMPLE_LINES,
  AUTO_MIN_SHARE,
  type HeaderParser,
  type HeaderPatternOptions,
  type HeaderPatternName,
} from './header-pattern.js';
export { headerTimeReader, type HeaderTimeReader } from './header-time.js';
