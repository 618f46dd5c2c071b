import type { AppError } from '../../core/errors.js';

/**
 * The one HTTP call of the OpenAI-compatible speech providers (`/audio/transcriptions`,
 * `/audio/speech`): the endpoint under the configured base URL, the bearer key, a timeout
 * combined with the caller's abort signal, and any failure — network, timeout, a non-2xx
 * status — turned into the provider's own citizen-facing error.
 */
export interface SpeechEndpoint {
  baseUrl: string;
  apiKey?: string | undefined;
  timeoutMs?: number | undefined;
  fetch?: typeof fetch | undefined;
}

export async function postSpeech(
  endpoint: SpeechEndpoint,
  path: string,
  init: { body: BodyInit; headers?: Record<string, string>; signal?: AbortSignal | undefined },
  failed: () => AppError,
): Promise<Response> {
  const url = `${endpoint.baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  const timeout = AbortSignal.timeout(endpoint.timeoutMs ?? 30_000);
  let res: Response;
  try {
    res = await (endpoint.fetch ?? fetch)(url, {
      method: 'POST',
      body: init.body,
      headers: { ...(init.headers ?? {}), ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}) },
      signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout,
    });
  } catch {
    throw failed();
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw failed();
  }
  return res;
}
