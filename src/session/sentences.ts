/**
 * Splits streamed reply text into sentences, so speech can start after the first sentence
 * instead of after the whole reply.
 */
export class SentenceSplitter {
  private buffer = '';

  /** Adds text and returns the sentences it completed. */
  push(text: string): string[] {
    this.buffer += text;
    const out: string[] = [];
    // A sentence ends at . ! ? or a newline followed by white space; "3.5" does not end one.
    const boundary = /([.!?]+["')\]]*\s+|\n+)/g;
    let start = 0;
    let m: RegExpExecArray | null;
    while ((m = boundary.exec(this.buffer)) !== null) {
      const end = m.index + m[0].length;
      const sentence = this.buffer.slice(start, end).trim();
      if (sentence) out.push(sentence);
      start = end;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /** Returns whatever text is left, as a last sentence. */
  flush(): string | undefined {
    const rest = this.buffer.trim();
    this.buffer = '';
    return rest || undefined;
  }
}
