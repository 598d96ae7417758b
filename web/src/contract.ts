// Wire types of the HTTP + WebSocket contract (docs/api.md): the server's own
// definitions (src/contract.ts, types only), plus what only the browser needs.

export type {
  FriendRequest,
  FriendStatus,
  FriendsResponse,
  MyStreamStatus,
  Recording,
  Relation,
  StreamStatusResponse,
  User,
} from '../../src/contract.js';
import type { ServerMessage } from '../../src/contract.js';

/** Server → client WebSocket messages. */
export type ServerEvent = ServerMessage;

export type ServerEventType = ServerEvent['type'];
export type ServerEventOf<K extends ServerEventType> = Extract<ServerEvent, { type: K }>;
