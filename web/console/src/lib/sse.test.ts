// Tests for the SSE line parser (sse.ts): fields, multi-line data, comments, CRLF, split chunks.
import { describe, expect, it } from 'vitest';
import { SseParser } from './sse';

describe('SseParser', () => {
  it('parses named events with ids and one-line JSON data', () => {
    const p = new SseParser();
    const evs = p.push('event: overview\ndata: {"nodes":[]}\n\nevent: alert\nid: 01HX\ndata: {"alert_id":"01HX"}\n\n');
    expect(evs).toEqual([
      { event: 'overview', data: '{"nodes":[]}', id: '' },
      { event: 'alert', data: '{"alert_id":"01HX"}', id: '01HX' },
    ]);
  });

  it('joins multi-line data, defaults the type to message and strips one leading space', () => {
    const p = new SseParser();
    expect(p.push('data:a\ndata:  b\n\n')).toEqual([{ event: 'message', data: 'a\n b', id: '' }]);
  });

  it('counts comments (keep-alives) and dispatches nothing for them', () => {
    const p = new SseParser();
    expect(p.push(': keep-alive\n\n')).toEqual([]);
    expect(p.comments).toBe(1);
  });

  it('reassembles events split across chunks, even inside a line', () => {
    const p = new SseParser();
    const text = 'event: alert\ndata: {"alert_id":"X1"}\n\nevent: overview\ndata: {}\n\n';
    const out = [];
    for (const ch of text) out.push(...p.push(ch));
    expect(out.map((e) => e.event)).toEqual(['alert', 'overview']);
    expect(out[0].data).toBe('{"alert_id":"X1"}');
  });

  it('handles CRLF and lone CR line endings, including a CR at a chunk boundary', () => {
    const p = new SseParser();
    const a = p.push('event: x\r\ndata: 1\r');
    const b = p.push('\n\r\nevent: y\rdata: 2\r\r');
    expect([...a, ...b]).toEqual([
      { event: 'x', data: '1', id: '' },
      { event: 'y', data: '2', id: '' },
    ]);
  });

  it('ignores blocks without data and unknown fields; reads retry', () => {
    const p = new SseParser();
    expect(p.push('event: overview\n\nfoo: bar\nretry: 3000\n\n')).toEqual([]);
    expect(p.retryMs).toBe(3000);
  });

  it('keeps the last id for later events and resets the event type after dispatch', () => {
    const p = new SseParser();
    const evs = p.push('id: 7\nevent: alert\ndata: a\n\ndata: b\n\n');
    expect(evs[1]).toEqual({ event: 'message', data: 'b', id: '7' });
  });

  it('does not dispatch an event until its blank line arrives', () => {
    const p = new SseParser();
    expect(p.push('event: alert\ndata: {}\n')).toEqual([]);
    expect(p.push('\n')).toHaveLength(1);
  });
});
