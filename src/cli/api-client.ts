import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { Readable } from 'node:stream';

/** A non-2xx answer from the daemon, carrying its stable code and message. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiClientOptions {
  url: string;
  token?: string;
  /** PEM file of a CA to trust, for a daemon with a self-signed certificate. */
  caFile?: string;
}

/** The CLI's only way to the daemon: JSON over HTTP(S), errors as ApiError. */
export class ApiClient {
  readonly base: string;
  private readonly dispatcher: Agent;
  private readonly headers: Record<string, string>;

  constructor(options: ApiClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
    this.dispatcher = new Agent({
      connect: options.caFile ? { ca: readFileSync(options.caFile) } : {},
      // logs -f holds a response open for as long as the operator watches
      bodyTimeout: 0,
    });
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body);
    const text = await res.body.text();
    if (res.statusCode >= 400) throw toApiError(res.statusCode, text);
    if (text === '') return undefined as T;
    return JSON.parse(text) as T;
  }

  /** A streamed text answer (service logs); the caller consumes or destroys it. */
  async stream(path: string): Promise<Readable> {
    const res = await this.send('GET', path);
    if (res.statusCode >= 400) throw toApiError(res.statusCode, await res.body.text());
    return res.body;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async send(method: string, path: string, body?: unknown) {
    const headers: Record<string, string> = { ...this.headers, accept: 'application/json' };
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    try {
      return await request(this.base + path, {
        method: method as 'GET',
        headers,
        body: payload,
        dispatcher: this.dispatcher,
      });
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'ECONNREFUSED';
      throw new ApiError('UNREACHABLE', `cannot reach the nodee daemon at ${this.base} (${code})`, 0);
    }
  }
}

function toApiError(status: number, text: string): ApiError {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (parsed.error?.code) return new ApiError(parsed.error.code, parsed.error.message ?? parsed.error.code, status);
  } catch {
    // not JSON: fall through to a generic error that still shows what came back
  }
  return new ApiError('HTTP_' + status, text.slice(0, 200) || `HTTP ${status}`, status);
}
