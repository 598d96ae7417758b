// Pins the API's error vocabulary: clients branch on these codes, so any
// change here must be deliberate (and announced in docs/api.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, ERROR_STATUS, WS_CLOSE } from '../../src/control/errors.js';

test('the error codes and their HTTP statuses are exactly the documented ones', () => {
  assert.deepEqual(ERROR_STATUS, {
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
  });
});

test('the WebSocket close codes are exactly the documented ones', () => {
  assert.deepEqual(WS_CLOSE, { GOING_AWAY: 1001, RECONNECT_NOW: 4503, TOO_BIG: 1009, BAD_MESSAGE: 4400, NOT_SIGNED_IN: 4401, ORIGIN: 4403, TOO_MANY_SOCKETS: 4409, TOO_MANY_MESSAGES: 4429, INTERNAL: 1011 });
});

test('an ApiError serializes as {error: {code, message}} with its default or overridden status', () => {
  const e = new ApiError('NOT_FRIENDS', 'You and x are not friends.');
  assert.equal(e.status, 404);
  assert.deepEqual(e.toBody(), { error: { code: 'NOT_FRIENDS', message: 'You and x are not friends.' } });
  assert.equal(new ApiError('NOT_FRIENDS', 'm', { status: 403 }).status, 403);
});
