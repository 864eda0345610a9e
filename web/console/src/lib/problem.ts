// Turns an HTTP error answer (RFC 9457 problem+json or anything else) into one readable message.
// problemMessage() is pure (tested); ApiError carries the status for callers (401 → login box).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** "Not Found: customer 'c9' is unknown (404)" from a problem document; falls back to the text. */
export function problemMessage(status: number, statusText: string, contentType: string, body: string): string {
  const ct = (contentType || '').toLowerCase();
  const trimmed = body.trim();
  if (ct.includes('json') || trimmed.startsWith('{')) {
    try {
      const doc = JSON.parse(trimmed);
      if (doc && typeof doc === 'object') {
        const title = typeof doc.title === 'string' ? doc.title : '';
        const detail = typeof doc.detail === 'string' ? doc.detail : '';
        const text = title && detail && title !== detail ? `${title}: ${detail}` : detail || title;
        if (text) return `${text} (${status})`;
        if (typeof doc.error === 'string') return `${doc.error} (${status})`;
      }
    } catch {
      /* not JSON after all: fall through */
    }
  }
  if (trimmed && !ct.includes('html') && trimmed.length <= 300) return `${trimmed} (${status})`;
  return `${statusText || 'HTTP error'} (${status})`;
}

/** A message for anything thrown (ApiError, TypeError from fetch, strings). */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.name === 'TypeError' ? `network error: ${e.message}` : e.message;
  return String(e);
}
