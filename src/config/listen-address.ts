/**
 * The HTTP listener's `host:port` (IPv6 in brackets: `[::1]:8790`). The host is required:
 * binding every interface must be a deliberate `0.0.0.0`, never an accident of omission.
 * Port 0 asks the OS for a free port (tests).
 */
export interface ListenAddress {
  host: string;
  port: number;
}

const BRACKETED_V6 = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/;
const HOST_PORT = /^([^\s:[\]]+):(\d{1,5})$/;

export function parseListenAddress(value: string): ListenAddress | undefined {
  const match = BRACKETED_V6.exec(value) ?? HOST_PORT.exec(value);
  if (match === null) return undefined;
  const port = Number(match[2]);
  if (port > 65535) return undefined;
  return { host: match[1] as string, port };
}
