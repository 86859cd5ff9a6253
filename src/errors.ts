/**
 * Every error the engine raises on purpose carries a stable machine-readable `code`,
 * so callers (HTTP layer, CLI, tests) branch on codes, never on message text.
 */
export class ReplicationError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad input at a boundary (key, content, option): nothing was changed. */
export class ValidationError extends ReplicationError {
  readonly field: string;

  constructor(code: string, field: string, message: string) {
    super(code, `${field}: ${message}`);
    this.field = field;
  }
}

/** The message of anything thrown: an Error's message, or the value as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
