// Tests for problem+json error extraction (problem.ts).
import { describe, expect, it } from 'vitest';
import { ApiError, errorText, problemMessage } from './problem';

describe('problemMessage', () => {
  it('uses title and detail of a problem document', () => {
    const body = JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404, detail: "customer 'c9' is unknown" });
    expect(problemMessage(404, 'Not Found', 'application/problem+json', body)).toBe("Not Found: customer 'c9' is unknown (404)");
  });
  it('uses detail alone when there is no title, and title alone without detail', () => {
    expect(problemMessage(400, '', 'application/problem+json', '{"detail":"limit must be in [1, 500]"}')).toBe('limit must be in [1, 500] (400)');
    expect(problemMessage(401, '', 'application/problem+json', '{"title":"Unauthorized"}')).toBe('Unauthorized (401)');
  });
  it('does not repeat a detail equal to the title', () => {
    expect(problemMessage(502, '', 'application/problem+json', '{"title":"Bad Gateway","detail":"Bad Gateway"}')).toBe('Bad Gateway (502)');
  });
  it('falls back to short plain text, then to the status text', () => {
    expect(problemMessage(500, 'Internal Server Error', 'text/plain', 'boom')).toBe('boom (500)');
    expect(problemMessage(500, 'Internal Server Error', 'text/html', '<html>…</html>')).toBe('Internal Server Error (500)');
    expect(problemMessage(503, '', '', '')).toBe('HTTP error (503)');
    expect(problemMessage(500, 'Oops', 'application/json', '{not json')).toBe('{not json (500)');
  });
  it('errorText handles ApiError, fetch TypeErrors and other values', () => {
    expect(errorText(new ApiError(404, 'gone (404)'))).toBe('gone (404)');
    expect(errorText(new TypeError('Failed to fetch'))).toBe('network error: Failed to fetch');
    expect(errorText('x')).toBe('x');
  });
});
