/** W3C trace context `traceparent` header value (version-traceid-parentid-flags). */
export const TRACE_PARENT_PATTERN = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export function isTraceParent(value: string): boolean {
  return TRACE_PARENT_PATTERN.test(value);
}
