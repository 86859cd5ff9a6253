// An in-memory OpenTelemetry tracer: records every span started through the API with its parent
// context, so a test can check which trace a span joined without an SDK or an exporter.
import { randomBytes } from 'node:crypto';
import {
  trace, TraceFlags,
  type Attributes, type AttributeValue, type Context, type Span, type SpanContext, type SpanOptions, type SpanStatus,
  type Tracer, type TracerProvider,
} from '@opentelemetry/api';

export interface RecordedSpan {
  name: string;
  context: SpanContext;
  /** The parent span's context, when the span had one. */
  parent: SpanContext | undefined;
  attributes: Attributes;
  exceptions: unknown[];
  ended: boolean;
}

class RecordingSpan implements Span {
  constructor(private readonly record: RecordedSpan) {}
  spanContext(): SpanContext {
    return this.record.context;
  }
  setAttribute(key: string, value: AttributeValue): this {
    this.record.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    Object.assign(this.record.attributes, attributes);
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(_status: SpanStatus): this {
    return this;
  }
  updateName(name: string): this {
    this.record.name = name;
    return this;
  }
  end(): void {
    this.record.ended = true;
  }
  isRecording(): boolean {
    return !this.record.ended;
  }
  recordException(exception: unknown): void {
    this.record.exceptions.push(exception);
  }
}

export class RecordingTracerProvider implements TracerProvider {
  readonly spans: RecordedSpan[] = [];

  getTracer(): Tracer {
    const spans = this.spans;
    const startSpan = (name: string, options: SpanOptions = {}, ctx?: Context): Span => {
      const parent = ctx ? trace.getSpanContext(ctx) : undefined;
      const record: RecordedSpan = {
        name,
        context: {
          traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
          spanId: randomBytes(8).toString('hex'),
          traceFlags: parent?.traceFlags ?? TraceFlags.SAMPLED,
        },
        parent,
        attributes: { ...options.attributes },
        exceptions: [],
        ended: false,
      };
      spans.push(record);
      return new RecordingSpan(record);
    };
    return {
      startSpan,
      startActiveSpan: (() => {
        throw new Error('RecordingTracerProvider: startActiveSpan is not supported');
      }) as Tracer['startActiveSpan'],
    };
  }
}
