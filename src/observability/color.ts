/**
 * Whether output may carry ANSI colours: only on a terminal, and never when NO_COLOR is set to a
 * non-empty value (https://no-color.org). One rule for the logs, the demo and every command.
 */
export function colorAllowed(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}
