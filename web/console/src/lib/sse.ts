// Incremental Server-Sent Events parser (WHATWG "event stream interpretation"), fed with text
// chunks as they arrive from fetch()'s ReadableStream. Used by stream.ts instead of EventSource so
// requests can carry an Authorization header.
//   const p = new SseParser(); for (const ev of p.push(chunk)) handle(ev.event, ev.data, ev.id);

export interface SseEvent {
  event: string; // "message" when the stream gave no `event:` field
  data: string; // `data:` lines joined with "\n"
  id: string; // last event id seen so far ("" when none)
}

export class SseParser {
  private buf = '';
  private pendingCr = false;
  private eventType = '';
  private data: string[] = [];
  private hasData = false;
  lastId = '';
  retryMs: number | null = null;
  comments = 0;

  /** Feeds one chunk; returns the events completed by it (possibly none). */
  push(chunk: string): SseEvent[] {
    const out: SseEvent[] = [];
    let text = chunk;
    if (this.pendingCr) {
      // A CR ended the previous chunk: a following LF belongs to that line ending.
      if (text.startsWith('\n')) text = text.slice(1);
      this.pendingCr = false;
    }
    this.buf += text;
    let start = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (c !== '\n' && c !== '\r') continue;
      const line = this.buf.slice(start, i);
      if (c === '\r') {
        if (i + 1 === this.buf.length) this.pendingCr = true;
        else if (this.buf[i + 1] === '\n') i++;
      }
      start = i + 1;
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    this.buf = this.buf.slice(start);
    return out;
  }

  private line(line: string): SseEvent | null {
    if (line === '') {
      const ev = this.hasData
        ? { event: this.eventType || 'message', data: this.data.join('\n'), id: this.lastId }
        : null;
      this.eventType = '';
      this.data = [];
      this.hasData = false;
      return ev;
    }
    if (line.startsWith(':')) {
      this.comments++;
      return null;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
    return null;
  }
}
