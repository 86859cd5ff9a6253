/**
 * A server span per HTTP request, the child of the caller's `traceparent` when it sends one. Built
 * only while trace export is on (otel-sdk.ts): otherwise a shared no-op, not even an API call.
 * The span names the route template, never the key: keys are application data.
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';
import { tracingActive } from './otel-sdk.js';
import { parseTraceParent } from './tracing.js';

export interface ServerSpan {
  end(status: number): void;
}

const NO_SPAN: ServerSpan = { end: () => undefined };

/** The low-cardinality route of a request path, for span names. */
export function routeTemplate(path: string): string {
  if (path.startsWith('/v1/items/')) return '/v1/items/{key}';
  if (['/v1/items', '/health', '/ready', '/status', '/metrics'].includes(path)) return path;
  return 'unknown route';
}

export function startServerSpan(req: IncomingMessage): ServerSpan {
  if (!tracingActive()) return NO_SPAN;
  const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
  const header = req.headers.traceparent;
  const parent = typeof header === 'string' ? parseTraceParent(header) : null;
  const ctx = parent ? trace.setSpanContext(context.active(), { ...parent, isRemote: true }) : context.active();
  const method = req.method ?? 'GET';
  const route = routeTemplate(path);
  const span = trace.getTracer('replication-engine').startSpan(
    `${method} ${route}`,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'http.route': route } },
    ctx,
  );
  return {
    end(status) {
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}
