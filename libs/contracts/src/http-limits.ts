/**
 * The largest request body the gateway reads; larger ones get 413 (docs/api.md). The largest
 * valid body is a title of 2,000 UTF-8 bytes written as JSON escapes, about 6 KB; a client is
 * never near this, and refusing a body costs the gateway a read of what was sent.
 */
export const REQUEST_BODY_MAX_BYTES = 16 * 1024;
