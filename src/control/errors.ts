// The API's error vocabulary (docs: docs/api.md). Codes are stable: clients
// branch on them, and test/unit/errors.test.ts pins this table so a change is
// deliberate. Each code has its usual HTTP status; a route may pass another
// where api.md says so (e.g. NOT_FRIENDS is 403 for listening, 404 for removal).

export const ERROR_STATUS = {
  BAD_JSON: 400,
  VALIDATION: 400,
  SELF_REQUEST: 400,
  BAD_SDP: 400,
  NOT_SIGNED_IN: 401,
  BAD_CREDENTIALS: 401,
  CSRF_ORIGIN: 403,
  NOT_OWNER: 403,
  NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  REQUEST_NOT_FOUND: 404,
  NOT_FRIENDS: 404,
  NO_SUCH_STREAM: 404,
  NOT_STREAMING: 409,
  USERNAME_TAKEN: 409,
  ALREADY_FRIENDS: 409,
  REQUEST_EXISTS: 409,
  ALREADY_STREAMING: 409,
  LISTENER_LIMIT: 409,
  RECORDING_IN_PROGRESS: 409,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  MISDIRECTED_HOST: 421,
  TOO_MANY_ATTEMPTS: 429,
  TOO_MANY_SIGNUPS: 429,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error the client should see as `{error: {code, message}}` with `status`. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    message: string,
    opts: { status?: number; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = opts.status ?? ERROR_STATUS[code];
    this.headers = opts.headers ?? {};
  }

  toBody(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** WebSocket close codes (4000–4999 are ours; 1001/1009 are RFC 6455's). */
export const WS_CLOSE = {
  /** Server shutting down. */
  GOING_AWAY: 1001,
  /**
   * This node is draining (SIGTERM): reconnect at once, without back-off; the load balancer sends the
   * new socket to another node. Used for every shutdown (a lone node's browsers simply fail and back off).
   */
  RECONNECT_NOW: 4503,
  /** Message larger than 4 KiB (sent by the ws library itself). */
  TOO_BIG: 1009,
  /** Non-JSON or unknown message type. */
  BAD_MESSAGE: 4400,
  /** No or invalid session cookie, or the session ended (sign-out, expiry). */
  NOT_SIGNED_IN: 4401,
  /** Origin header missing or not this site. */
  ORIGIN: 4403,
  /** The user already has WS_MAX_PER_USER sockets open on this node. */
  TOO_MANY_SOCKETS: 4409,
  /** The client sent more than WS_MAX_MESSAGES_PER_SECOND messages in a second. */
  TOO_MANY_MESSAGES: 4429,
  /** Server error while opening the socket. */
  INTERNAL: 1011,
} as const;
