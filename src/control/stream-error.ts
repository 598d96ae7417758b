// The streaming feature's error vocabulary: each one is an HTTP status plus a
// stable SNAKE_CODE (api.md "Streaming") and a sentence the UI can show.
export type StreamErrorCode =
  | 'ALREADY_STREAMING'
  | 'NOT_STREAMING'
  | 'NO_SUCH_STREAM'
  | 'NO_SUCH_LISTENER'
  | 'NOT_FRIENDS'
  | 'LISTENER_LIMIT'
  | 'USER_LISTENER_LIMIT'
  | 'BAD_SDP'
  | 'INVALID_STATE'
  | 'MEDIA_UNAVAILABLE';

const STATUS: Record<StreamErrorCode, number> = {
  ALREADY_STREAMING: 409,
  NOT_STREAMING: 409,
  NO_SUCH_STREAM: 404,
  NO_SUCH_LISTENER: 404,
  NOT_FRIENDS: 403,
  LISTENER_LIMIT: 409,
  USER_LISTENER_LIMIT: 429,
  BAD_SDP: 400,
  INVALID_STATE: 409,
  MEDIA_UNAVAILABLE: 503,
};

export class StreamError extends Error {
  override name = 'StreamError';
  readonly statusCode: number;
  constructor(
    readonly code: StreamErrorCode,
    message: string,
    statusOverride?: number,
  ) {
    super(message);
    this.statusCode = statusOverride ?? STATUS[code];
  }
}
