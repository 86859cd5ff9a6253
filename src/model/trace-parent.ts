/** W3C trace context `traceparent` header value (version-traceid-parentid-flags). */
export const TRACE_PARENT_PATTERN = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_PARENT_ID = '0'.repeat(16);

/**
 * A valid version-00 shaped traceparent. W3C Trace Context also makes version ff and all-zero
 * trace or parent ids invalid. Callers ignore an invalid value (drop the trace context), never
 * the request or change that carries it.
 */
declare const checkedTraceParent: unique symbol;
/** A value that has passed isTraceParent. */
export type TraceParent = string & { readonly [checkedTraceParent]: true };

export function isTraceParent(value: string): value is TraceParent {
  return TRACE_PARENT_PATTERN.test(value) && !value.startsWith('ff-') && value.slice(3, 35) !== ZERO_TRACE_ID &&
    value.slice(36, 52) !== ZERO_PARENT_ID;
}
