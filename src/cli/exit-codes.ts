/** Process exit codes of every command, in one place so scripts can rely on them. */
export const EXIT = {
  ok: 0,
  /** Failure, or (verify) a mesh that is not in sync. */
  failure: 1,
  /** Invalid configuration or usage. */
  config: 2,
} as const;
