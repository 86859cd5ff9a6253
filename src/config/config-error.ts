import { ReplicationError } from '../errors.js';

/** One problem in a configuration, located by its dotted path (`replication.peers[1].node_id`). */
export interface ConfigIssue {
  /** Dotted path from the file's top level; '' when the problem is the document itself. */
  path: string;
  /** What was expected or what was wrong. Never contains a secret value. */
  message: string;
  /** 1-based position in the YAML text, when known (syntax errors, and issues loaded from a file). */
  line?: number;
  column?: number;
}

/** Where an in-memory config came from, when it did not come from a file. */
export const INLINE_SOURCE = '<config>';

/**
 * A configuration was refused. Every issue is listed, one per line, so an operator fixes the
 * file in one pass instead of one error per restart.
 */
export class ConfigError extends ReplicationError {
  readonly issues: readonly ConfigIssue[];
  readonly source: string;

  constructor(issues: readonly ConfigIssue[], source: string = INLINE_SOURCE) {
    super('invalid_config', issues.map((issue) => formatIssue(source, issue)).join('\n'));
    this.issues = issues;
    this.source = source;
  }
}

/** `<source>: <path>: <message>`, with the YAML position appended when known. */
export function formatIssue(source: string, issue: ConfigIssue): string {
  const where = issue.line === undefined ? '' : ` (line ${issue.line}${issue.column === undefined ? '' : `, column ${issue.column}`})`;
  const path = issue.path === '' ? '' : `${issue.path}: `;
  return `${source}: ${path}${issue.message}${where}`;
}
