/**
 * Trace context (docs/hot-path.md): a change's `trace_parent` becomes the parent of its apply span.
 * Only the OpenTelemetry API is used: with no SDK registered every span is a no-op, so a
 * user who wires up an exporter gets the spans and everyone else pays nothing.
 */
import { context, trace, TraceFlags, type Span } from '@opentelemetry/api';
import { TRACE_PARENT_PATTERN } from '../model/trace-parent.js';

const tracer = (): ReturnType<typeof trace.getTracer> => trace.getTracer('replication-engine');

export function parseTraceParent(value: string): { traceId: string; spanId: string; traceFlags: number } | null {
  if (!TRACE_PARENT_PATTERN.test(value)) return null;
  const [, traceId, spanId, flags] = value.split('-') as [string, string, string, string];
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return null;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & TraceFlags.SAMPLED };
}

/** Starts one span per change that carries a trace parent; call `end` with each outcome. */
export function startApplySpans(
  peerId: string,
  changes: readonly { key: string; traceParent?: string }[],
): { end(outcomes: readonly string[] | null, error?: unknown): void } {
  const spans: (Span | null)[] = changes.map((c) => {
    const parent = c.traceParent ? parseTraceParent(c.traceParent) : null;
    if (!parent) return null;
    const ctx = trace.setSpanContext(context.active(), { ...parent, isRemote: true });
    return tracer().startSpan('replication.apply', { attributes: { 'replication.peer_id': peerId, 'replication.key': c.key } }, ctx);
  });
  return {
    end(outcomes, error) {
      spans.forEach((span, i) => {
        if (!span) return;
        if (outcomes) span.setAttribute('replication.outcome', outcomes[i] ?? 'unknown');
        if (error) span.recordException(error instanceof Error ? error : new Error(String(error)));
        span.end();
      });
    },
  };
}
