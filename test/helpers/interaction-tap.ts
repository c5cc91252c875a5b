/**
 * A WebSocket class for relive/client tests that writes into what the client receives the frames
 * today's models and Agent Platform add and relive's 2.5 model does not send: an extended-thinking
 * filler turn ending IN_PROGRESS, a resumable handle sent mid-answer, a goAway in the middle of an
 * answer or after a tool call, and IDLE on the answer's turnComplete. It also records the setups
 * the client sends and the sockets it closes.
 */
import { WebSocket as NodeWebSocket } from 'ws';
import { Modality, type LiveServerMessage, type Tool } from '@google/genai';
import { connectResilient, type LifecycleEvent, type ResilientSession } from '../../src/client/index.js';
import type { ResilientSettings } from '../../src/client/resilient-session.js';
import type { Changes } from './wait.js';

export const MID_ANSWER = 'mid-answer-handle';

/** What the next answer gets written into it; taken by the first socket that sees a model turn. */
export interface Plan {
  /** A goAway with this timeLeft, sent right after the mid-answer handle. */
  goAway: string;
  /** Which frame the additions follow: the answer's first model turn, or a tool call. */
  on: 'modelTurn' | 'toolCall';
}

export interface TapState {
  plan: Plan | undefined;
  setups: Record<string, unknown>[];
  /** Sockets the client closed, in order (a rotation closes the old one). */
  closes: number;
}

export function tapClass(state: TapState): NonNullable<ResilientSettings['WebSocket']> {
  return class Tap extends NodeWebSocket {
    constructor(url: string) {
      super(url, { perMessageDeflate: false });
    }
    override send(data: unknown): void {
      const json = JSON.parse(String(data)) as Record<string, unknown>;
      if (json.setup) state.setups.push(json.setup as Record<string, unknown>);
      super.send(data as string);
    }
    override close(code?: number, reason?: string): void {
      state.closes++;
      super.close(code, reason);
    }
    override addEventListener(type: string, listener: (event: any) => void): void {
      if (type !== 'message') return super.addEventListener(type as 'open', listener);
      let plan: Plan | undefined;
      super.addEventListener('message', (event) => {
        const data = event.data;
        const text = typeof data === 'string' ? data : new TextDecoder().decode(data as ArrayBuffer);
        const json = JSON.parse(text) as { serverContent?: { modelTurn?: unknown; turnComplete?: boolean; interactionStatus?: string }; toolCall?: unknown };
        const inject = (frame: unknown) => listener({ data: JSON.stringify(frame) });
        if (json.toolCall && state.plan?.on === 'toolCall' && !plan) {
          plan = state.plan;
          state.plan = undefined;
          listener({ data: text });
          inject({ goAway: { timeLeft: plan.goAway } });
          return;
        }
        if (json.serverContent?.modelTurn && state.plan?.on === 'modelTurn' && !plan) {
          plan = state.plan;
          state.plan = undefined;
          // The extended-thinking filler: a turn of its own that does not end the interaction.
          inject({ serverContent: { modelTurn: { parts: [{ text: 'let me think' }] } } });
          inject({ serverContent: { turnComplete: true, interactionStatus: 'IN_PROGRESS' } });
          // Agent Platform marks every update resumable, this one too.
          inject({ sessionResumptionUpdate: { newHandle: MID_ANSWER, resumable: true } });
          inject({ goAway: { timeLeft: plan.goAway } });
        }
        if (plan && json.serverContent?.turnComplete) {
          json.serverContent.interactionStatus = 'IDLE';
          plan = undefined;
          return inject(json);
        }
        listener({ data: text });
      });
    }
  };
}


/**
 * relive/client on `model` over the tap, with fast reconnects and no keepalive; the app's
 * messages go to `onmessage`, and every message and lifecycle event wakes `changes`.
 */
export function connectTapped(
  url: string,
  state: TapState,
  options: { apiKey: string; tools?: Tool[]; events: LifecycleEvent[]; changes: Changes; onmessage: (m: LiveServerMessage) => void },
): Promise<ResilientSession> {
  return connectResilient({
    model: 'gemini-live-2.5-flash-preview',
    config: { responseModalities: [Modality.TEXT], ...(options.tools ? { tools: options.tools } : {}) },
    apiKey: options.apiKey,
    baseUrl: url,
    WebSocket: tapClass(state),
    reconnect: { initialDelayMs: 2, maxDelayMs: 20, maxAttempts: 5 },
    keepalive: { intervalMs: 0 },
    callbacks: {
      onmessage: (m: LiveServerMessage) => {
        options.onmessage(m);
        options.changes.notify();
      },
      onevent: (e) => {
        options.events.push(e);
        options.changes.notify();
      },
    },
  });
}
