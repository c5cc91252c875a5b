/**
 * A streaming Server-Sent Events parser (the WHATWG event-stream format) over a fetch body. Bytes
 * may be split anywhere, a multi-byte character or a CR LF pair included; lines end in LF, CR or
 * CR LF; `:` lines are comments; several `data:` lines of one event are joined with LF.
 */

export interface SseEvent {
  /** The `event:` field; absent means the default type, "message". */
  readonly event?: string;
  readonly data: string;
  readonly id?: string;
}

/** Splits text into events as it arrives; `push` returns the events each piece completes. */
export class SseParser {
  private buffer = '';
  /** The previous piece ended in CR: a LF starting the next one belongs to the same line break. */
  private pendingCr = false;
  private started = false;
  private data: string[] = [];
  private event: string | undefined;
  private id: string | undefined;

  push(text: string): SseEvent[] {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text.length === 0) return [];
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.buffer.slice(start, i);
      if (c === 13) {
        if (i + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
      const event = this.line(line);
      if (event) events.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /**
   * The end of the stream. The standard drops an event that no blank line ended; servers that
   * omit the last blank line are common enough that it is delivered instead.
   */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    if (this.buffer.length > 0) {
      const event = this.line(this.buffer);
      this.buffer = '';
      if (event) events.push(event);
    }
    const last = this.dispatch();
    if (last) events.push(last);
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      // `retry` and unknown fields are ignored.
    }
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const data = this.data;
    const event = this.event;
    this.data = [];
    this.event = undefined;
    if (data.length === 0) return undefined;
    return {
      data: data.join('\n'),
      ...(event !== undefined && event !== '' ? { event } : {}),
      ...(this.id !== undefined ? { id: this.id } : {}),
    };
  }
}

/**
 * The events of a response body, as they arrive. Returning early (or an abort of the request the
 * body belongs to) cancels the body, so the HTTP stream closes.
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8');
  const parser = new SseParser();
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      yield* parser.push(decoder.decode(next.value, { stream: true }));
    }
    done = true;
    yield* parser.push(decoder.decode());
    yield* parser.end();
  } finally {
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
