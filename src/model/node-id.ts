import { ValidationError } from '../errors.js';

/**
 * Node ids are ASCII so that (hlc, origin) order is plain byte order everywhere
 * (JavaScript, Lua, SQLite). They appear in stamps, metrics labels and log lines.
 */
export const NODE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

export function isNodeId(value: string): boolean {
  return NODE_ID_PATTERN.test(value);
}

export function assertNodeId(value: string, field = 'node_id'): string {
  if (!isNodeId(value)) {
    throw new ValidationError(
      'invalid_node_id',
      field,
      `"${value}" is not a valid node id (1-128 ASCII letters, digits and . _ : @ -, starting with a letter or digit)`,
    );
  }
  return value;
}
