/**
 * ioredis's standalone connector, with one change: every socket it opens keeps an 'error'
 * listener for its whole life. ioredis listens with once('error') (redis/ioredis#961, closed
 * "wontfix"), so a socket that errors twice — a TLS peer whose certificate we refuse and which
 * then answers with an alert, under load — emits the second error to nobody, and Node turns that
 * into an uncaught exception that would stop the engine. ioredis still sees the first error (it
 * logs it, reports it and reconnects); later ones on a socket it has given up on carry nothing new.
 */
import { createRequire } from 'node:module';
import type { AbstractConnector } from 'ioredis';

type NetStream = Awaited<ReturnType<AbstractConnector['connect']>>;
type ErrorEmitter = Parameters<AbstractConnector['connect']>[0];
/** The concrete connector: its connect() is implemented (AbstractConnector's is abstract). */
type ConnectorClass = new (options: unknown) => AbstractConnector & { connect(emit: ErrorEmitter): Promise<NetStream> };

// Not part of ioredis's exported API; ioredis has no package "exports" map, so the path is stable
// within a major version (package.json pins ^5).
const require = createRequire(import.meta.url);
const StandaloneConnector = (require('ioredis/built/connectors/StandaloneConnector') as { default: ConnectorClass }).default;

const ignore = (): void => undefined;

export class ErrorSafeConnector extends StandaloneConnector {
  override async connect(emit: ErrorEmitter): Promise<NetStream> {
    const stream = await super.connect(emit);
    stream.on('error', ignore);
    return stream;
  }
}
