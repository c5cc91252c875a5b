/** The body of one `POST /chat/completions`: the session's config and history in OpenAI's terms. */
import type { EngineRequest } from '../../session/engine.js';
import { toChatMessages, type ChatMessage } from './messages.js';
import { toChatTools, type ChatTool } from './tools.js';

export interface ChatRequestBody {
  model: string;
  messages: ChatMessage[];
  tools?: ChatTool[];
  stream: true;
  stream_options: { include_usage: true };
  temperature?: number;
  max_tokens?: number;
  top_p?: number;
  seed?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
}

export interface SamplingDefaults {
  readonly temperature?: number;
  readonly maxTokens?: number;
}

/** The client's generationConfig wins over the engine's defaults. */
export function chatRequestBody(model: string, request: EngineRequest, defaults: SamplingDefaults): ChatRequestBody {
  const { config } = request;
  const gen = config.setup.generationConfig;
  const tools = toChatTools(config.tools);
  const temperature = gen?.temperature ?? defaults.temperature;
  const maxTokens = gen?.maxOutputTokens ?? defaults.maxTokens;
  return {
    model,
    messages: toChatMessages(config.systemInstruction, request.history),
    ...(tools.length > 0 ? { tools } : {}),
    stream: true,
    stream_options: { include_usage: true },
    ...(temperature !== undefined ? { temperature } : {}),
    // max_tokens rather than the newer max_completion_tokens: every OpenAI-compatible server knows it.
    ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
    ...(gen?.topP !== undefined ? { top_p: gen.topP } : {}),
    ...(gen?.seed !== undefined ? { seed: gen.seed } : {}),
    ...(gen?.presencePenalty !== undefined ? { presence_penalty: gen.presencePenalty } : {}),
    ...(gen?.frequencyPenalty !== undefined ? { frequency_penalty: gen.frequencyPenalty } : {}),
  };
}
