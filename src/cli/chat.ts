/**
 * `relive chat`: a terminal client built on the official @google/genai SDK. A person types turns,
 * the reply streams in as it arrives, and everything else the Live API says (interruptions, tool
 * calls, goAway, the close) shows up as a short bracketed status line.
 *
 * On a TTY every line is sent at once, so typing while the model replies interrupts it (barge-in),
 * as the Live API does. Piped input is sent one line per completed turn, so a transcript driven
 * from a file or a test is deterministic.
 */
import { createInterface, clearLine, cursorTo, type Interface } from 'node:readline';
import {
  GoogleGenAI,
  Modality,
  type FunctionResponse,
  type LiveConnectConfig,
  type LiveServerMessage,
  type LiveServerToolCall,
  type Session,
} from '@google/genai';
import { errorMessage } from '../errors.js';

export interface ChatOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:8765 (http: for ws, https: for wss). */
  url: string;
  model: string;
  apiKey: string;
  apiVersion: string;
  modality: 'TEXT' | 'AUDIO';
  /** Prebuilt voice for AUDIO replies (Puck, Kore, …). */
  voice?: string;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

const PROMPT = 'you> ';
const MODEL_PREFIX = 'model> ';
const TOOL_ANSWER = 'ok (answered by relive chat)';
/** The SDK waits for setupComplete forever; a chat should not. */
const CONNECT_TIMEOUT_MS = 30_000;
/** How long to wait for the server's answer to our close before giving up on it. */
const CLOSE_WAIT_MS = 2_000;
const DEFAULT_OUTPUT_RATE = 24_000;

const HELP = `commands:
  /help   show this help
  /quit   end the chat (so do Ctrl-D and the end of piped input)
any other line is sent as a user turn; start it with // to send a line that begins with /.
typing while the model replies interrupts it (barge-in). Tool calls are answered automatically
with "${TOOL_ANSWER}". AUDIO replies are shown as their transcript plus the length of the audio.
`;

/**
 * Runs one chat session and resolves with the exit code: 0 after /quit or the end of input (or a
 * normal 1000 close by the server), 1 when the connection fails or the server closes with an error.
 */
export async function runChat(options: ChatOptions): Promise<number> {
  return new Chat(options).run();
}

class Chat {
  private readonly interactive: boolean;
  /** readline drives the terminal (echo, history, escape codes) only when both ends are TTYs. */
  private readonly terminal: boolean;
  private rl: Interface | undefined;
  private session: Session | undefined;
  private connecting: Promise<Session> | undefined;
  private connected = false;
  private done = false;
  private closeInfo: { code: number; reason: string } | undefined;
  private preConnectError: string | undefined;

  private resolveExit!: (code: number) => void;
  private readonly exit = new Promise<number>((resolve) => (this.resolveExit = resolve));
  private resolveSocketClosed!: () => void;
  private readonly socketClosed = new Promise<void>((resolve) => (this.resolveSocketClosed = resolve));

  // Display state.
  private replyOpen = false;
  private promptShown = false;
  private lastWritten = '';
  private audioSeconds = 0;

  // Piped input: lines wait here until the previous turn is complete.
  private readonly queue: string[] = [];
  private awaitingTurn = false;
  private inputEnded = false;

  constructor(private readonly options: ChatOptions) {
    this.interactive = Boolean((options.input as { isTTY?: boolean }).isTTY);
    this.terminal = this.interactive && Boolean((options.output as { isTTY?: boolean }).isTTY);
  }

  async run(): Promise<number> {
    const { url, model, modality, voice } = this.options;
    this.write(
      `relive chat: ${url} · model ${model} · ${modality}${modality === 'AUDIO' && voice ? ` (voice ${voice})` : ''} · /help for commands, /quit to leave\n`,
    );
    try {
      this.session = await this.connect();
    } catch (err) {
      this.status(`error: cannot connect to ${url}: ${errorMessage(err)}`);
      return 1;
    }
    this.connected = true;
    if (this.closeInfo) {
      // The server closed between setupComplete and here.
      this.serverClosed(this.closeInfo);
      return this.exit;
    }
    this.startInput();
    return this.exit;
  }

  private connect(): Promise<Session> {
    const { url, model, apiKey, apiVersion, modality, voice } = this.options;
    const config: LiveConnectConfig = { responseModalities: [modality === 'AUDIO' ? Modality.AUDIO : Modality.TEXT] };
    if (modality === 'AUDIO') {
      config.outputAudioTranscription = {};
      if (voice) config.speechConfig = { voiceConfig: { prebuiltVoiceConfig: { voiceName: voice } } };
    }
    const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl: url, apiVersion } });
    const connecting = ai.live.connect({
      model,
      config,
      callbacks: {
        onmessage: (m: LiveServerMessage) => this.onMessage(m),
        onerror: (e: { message?: string }) => this.onError(e),
        onclose: (e: { code: number; reason: string }) => this.onClose(e),
      },
    });
    this.connecting = connecting;
    return new Promise<Session>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no setupComplete within ${CONNECT_TIMEOUT_MS / 1000} s`));
        // Should it still connect later, do not leave the socket open.
        connecting.then((s) => s.close(), () => undefined);
      }, CONNECT_TIMEOUT_MS);
      connecting.then(
        (s) => {
          clearTimeout(timer);
          resolve(s);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(this.preConnectError && !errorMessage(err).includes(this.preConnectError) ? new Error(`${errorMessage(err)} (${this.preConnectError})`) : err);
        },
      );
    });
  }

  private startInput(): void {
    const { input, output } = this.options;
    // Without a terminal readline neither echoes nor edits; it writes only the prompts we ask for.
    this.rl = createInterface({ input, output, terminal: this.terminal, prompt: PROMPT, crlfDelay: Infinity });
    this.rl.on('line', (line: string) => this.onLine(line));
    this.rl.on('close', () => this.onInputEnd());
    // Ctrl-C on a terminal ends the chat like /quit.
    this.rl.on('SIGINT', () => this.finish(0));
    if (this.interactive) this.showPrompt();
  }

  // ---- input ---------------------------------------------------------------------------------

  private onLine(line: string): void {
    if (this.done) return;
    if (this.interactive) {
      if (this.terminal) {
        // readline has echoed the line and ended it, also when it was typed into a streaming reply.
        this.promptShown = false;
        this.replyOpen = false;
      } else if (this.promptShown) {
        // The terminal echoed the line, but not into our output: keep the transcript whole.
        this.write(`${line}\n`);
        this.promptShown = false;
      } else {
        this.endReplyLine();
        this.write(`${PROMPT}${line}\n`);
      }
      const sent = this.handleLine(line);
      if (!sent && !this.done) this.showPrompt();
      return;
    }
    this.queue.push(line);
    this.pump();
  }

  private onInputEnd(): void {
    if (this.done) return;
    this.inputEnded = true;
    if (this.interactive) {
      this.finish(0);
      return;
    }
    this.pump();
  }

  /** Piped input: send queued lines one turn at a time; end once all are answered. */
  private pump(): void {
    while (!this.done && !this.awaitingTurn && this.queue.length > 0) {
      const line = this.queue.shift()!;
      if (line.trim()) this.write(`${PROMPT}${line.trim()}\n`);
      if (this.handleLine(line)) this.awaitingTurn = true;
    }
    if (!this.done && !this.awaitingTurn && this.queue.length === 0 && this.inputEnded) this.finish(0);
  }

  /** Runs a command or sends a user turn; true when a turn was sent. */
  private handleLine(line: string): boolean {
    let text = line.trim();
    if (!text) return false;
    if (text.startsWith('//')) {
      text = text.slice(1);
    } else if (text.startsWith('/')) {
      const command = text.split(/\s+/)[0]!.toLowerCase();
      if (command === '/quit' || command === '/exit') {
        this.finish(0);
      } else if (command === '/help' || command === '/?') {
        this.write(HELP);
      } else {
        this.status(`unknown command ${command}; /help lists the commands`);
      }
      return false;
    }
    if (!this.session || this.closeInfo) return false;
    try {
      this.session.sendClientContent({ turns: text, turnComplete: true });
    } catch (err) {
      this.status(`error: could not send: ${errorMessage(err)}`);
      return false;
    }
    return true;
  }

  // ---- server messages -------------------------------------------------------------------------

  private onMessage(m: LiveServerMessage): void {
    if (this.done) return;
    const sc = m.serverContent;
    if (sc) {
      for (const part of sc.modelTurn?.parts ?? []) {
        const data = part.inlineData?.data;
        if (data && (part.inlineData?.mimeType ?? '').startsWith('audio/')) {
          this.audioSeconds += audioSeconds(data, part.inlineData?.mimeType ?? '');
          this.openReply();
        } else if (typeof part.text === 'string' && !part.thought && this.options.modality === 'TEXT') {
          this.replyText(part.text);
        }
      }
      if (this.options.modality === 'AUDIO' && sc.outputTranscription?.text) this.transcript(sc.outputTranscription.text);
      if (sc.interrupted) this.status('interrupted');
      if (sc.turnComplete) this.onTurnComplete();
    }
    if (m.toolCall) this.onToolCall(m.toolCall);
    if (m.toolCallCancellation) this.status(`tool call cancelled: ${(m.toolCallCancellation.ids ?? []).join(', ') || '(no ids)'}`);
    if (m.goAway) this.status(`goAway: the server will close the connection in ${m.goAway.timeLeft ?? 'an unspecified time'}`);
  }

  private onTurnComplete(): void {
    this.endReplyLine();
    if (this.interactive) {
      this.showPrompt();
    } else {
      this.awaitingTurn = false;
      this.pump();
    }
  }

  private onToolCall(toolCall: LiveServerToolCall): void {
    const calls = toolCall.functionCalls ?? [];
    const responses: FunctionResponse[] = [];
    for (const call of calls) {
      const name = call.name ?? '(unnamed)';
      this.status(`tool call ${name}(${JSON.stringify(call.args ?? {})})${call.id ? ` id ${call.id}` : ''}: answering "${TOOL_ANSWER}"`);
      const response: FunctionResponse = { name, response: { output: TOOL_ANSWER } };
      if (call.id) response.id = call.id;
      responses.push(response);
    }
    if (responses.length === 0) return;
    // Messages queued before connect() resolved are delivered before we hold the session.
    void this.connecting?.then(
      (session) => {
        if (this.done || this.closeInfo) return;
        try {
          session.sendToolResponse({ functionResponses: responses });
        } catch (err) {
          this.status(`error: could not answer the tool call: ${errorMessage(err)}`);
        }
      },
      () => undefined,
    );
  }

  private onError(e: { message?: string }): void {
    const message = e?.message || 'WebSocket error';
    if (!this.connected) {
      this.preConnectError = message;
      return;
    }
    if (!this.done) this.status(`error: ${message}`);
  }

  private onClose(e: { code: number; reason: string }): void {
    this.closeInfo = { code: e?.code ?? 1006, reason: e?.reason ?? '' };
    this.resolveSocketClosed();
    // Before setup completes, connect() rejects with the code and reason; after finish() it is our close.
    if (!this.connected || this.done) return;
    this.serverClosed(this.closeInfo);
  }

  private serverClosed({ code, reason }: { code: number; reason: string }): void {
    this.status(`closed ${code}${reason ? `: ${reason}` : ''}`);
    this.finish(code === 1000 ? 0 : 1);
  }

  // ---- ending ----------------------------------------------------------------------------------

  private finish(code: number): void {
    if (this.done) return;
    this.endReplyLine();
    if (this.promptShown) {
      // Leave the shell's prompt on a line of its own.
      this.write('\n');
      this.promptShown = false;
    }
    this.done = true;
    this.rl?.close();
    void (async () => {
      if (this.session && !this.closeInfo) {
        try {
          this.session.close();
        } catch {
          // already closing
        }
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.socketClosed, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
        clearTimeout(timer);
      }
      this.resolveExit(code);
    })();
  }

  // ---- display ---------------------------------------------------------------------------------

  private write(text: string): void {
    if (!text) return;
    this.options.output.write(text);
    this.lastWritten = text;
  }

  private replyText(text: string): void {
    if (!text) return;
    this.openReply();
    this.write(text);
  }

  /**
   * Transcription chunks are meant to be concatenated, but some servers (relive included) send one
   * trimmed sentence per chunk: keep sentences apart without splitting words chunked mid-way.
   */
  /** Transcription chunks are written as they come: they concatenate, spaces included. */
  private transcript(text: string): void {
    this.replyText(text);
  }

  private openReply(): void {
    if (this.replyOpen) return;
    this.hidePrompt();
    this.write(MODEL_PREFIX);
    this.replyOpen = true;
  }

  /** Ends the reply line, with the note of the audio received on it. */
  private endReplyLine(): void {
    if (this.audioSeconds > 0) {
      this.openReply();
      const space = /\s$/.test(this.lastWritten) ? '' : ' ';
      this.write(`${space}[audio ${this.audioSeconds.toFixed(1)} s]`);
      this.audioSeconds = 0;
    }
    if (this.replyOpen) {
      this.write('\n');
      this.replyOpen = false;
    }
  }

  /** A bracketed status line, on a line of its own. */
  private status(text: string): void {
    this.endReplyLine();
    const hadPrompt = this.promptShown;
    this.hidePrompt();
    this.write(`[${text}]\n`);
    if (hadPrompt && !this.done) this.showPrompt();
  }

  private showPrompt(): void {
    if (!this.interactive || this.done || !this.rl) return;
    this.rl.prompt(true);
    this.promptShown = true;
  }

  /** Takes the `you> ` prompt (and any half-typed line) off the screen; showPrompt redraws both. */
  private hidePrompt(): void {
    if (!this.promptShown) return;
    this.promptShown = false;
    if (this.terminal) {
      clearLine(this.options.output, 0);
      cursorTo(this.options.output, 0);
    } else {
      this.write('\n');
    }
  }
}

function audioSeconds(base64: string, mimeType: string): number {
  const rate = Number(/rate=(\d+)/.exec(mimeType)?.[1] ?? DEFAULT_OUTPUT_RATE) || DEFAULT_OUTPUT_RATE;
  // 16-bit mono PCM, the Live API's output format.
  return Buffer.byteLength(base64, 'base64') / 2 / rate;
}

