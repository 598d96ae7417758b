// Same-origin JSON fetch wrapper for the contract in docs (docs/api.md): every
// failure becomes an ApiError carrying the server's stable `code` and its
// human `message`, so components can show the message inline and branch on
// the code without parsing text.

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    /** Stable SNAKE_CODE from the server, or NETWORK / BAD_RESPONSE for client-side failures. */
    readonly code: string,
    message: string,
    /** HTTP status; 0 when the request never got an answer. */
    readonly status: number,
  ) {
    super(message);
  }
}

/** Every success body may carry a human sentence the UI shows. */
export interface WithMessage {
  message?: string;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export async function apiRequest<T>(method: Method, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
    signal,
  };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError('NETWORK', 'Cannot reach the server. Check your connection and try again.', 0);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      // A proxy error page or a truncated body: report it rather than pretend it was empty.
      throw new ApiError('BAD_RESPONSE', `The server answered with something unexpected (HTTP ${res.status}).`, res.status);
    }
  }
  if (!res.ok) {
    const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const code = typeof error?.code === 'string' ? error.code : `HTTP_${res.status}`;
    const message = typeof error?.message === 'string' ? error.message : `Request failed (HTTP ${res.status}).`;
    throw new ApiError(code, message, res.status);
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string, signal?: AbortSignal) => apiRequest<T>('GET', path, undefined, signal),
  post: <T>(path: string, body?: unknown) => apiRequest<T>('POST', path, body ?? {}),
  put: <T>(path: string, body?: unknown) => apiRequest<T>('PUT', path, body ?? {}),
  del: <T>(path: string) => apiRequest<T>('DELETE', path),
};

/** The message to show for any thrown value (ApiError or a bug). */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
