// The wire contract between the browser app and the server (docs/api.md): the
// JSON shapes of the HTTP API and every WebSocket message the server sends.
// One source for both sides: the server builds these types, web/src imports
// them (types only, so nothing of the server reaches the bundle).

export interface User {
  id: number;
  username: string;
}

export type Relation = 'self' | 'friend' | 'incoming' | 'outgoing' | 'none';

/** A friend's presence and live state (GET /api/friends, GET /api/stream/status/). */
export interface FriendStatus {
  username: string;
  online: boolean;
  is_streaming: boolean;
  started_at: string | null;
  listeners: number;
}

export interface FriendRequest {
  id: number;
  username: string;
  created_at: string;
}

export interface FriendsResponse {
  friends: FriendStatus[];
  incoming: FriendRequest[];
  outgoing: FriendRequest[];
}

export interface MyStreamStatus {
  is_streaming: boolean;
  started_at: string | null;
  listeners: number;
  engine: string | null;
}

export interface StreamStatusResponse {
  me: MyStreamStatus;
  friends: FriendStatus[];
}

/** A recording (docs/api.md "Recordings" and the recording_added event). */
export interface Recording {
  id: number;
  owner: string;
  started_at: string;
  ended_at: string | null;
  duration_ms: number;
  size_bytes: number;
  sample_rate: number;
  engine: string;
  status: string;
  /** An un-denoised companion exists (RECORD_RAW): GET /api/recordings/:id/audio?raw=1. */
  has_raw: boolean;
}

/** Server → client WebSocket messages (docs/api.md "WebSocket"). */
export type ServerMessage =
  | { type: 'hello'; username: string }
  | { type: 'presence'; username: string; online: boolean }
  | { type: 'streaming_status'; username: string; is_streaming: boolean; started_at?: string | null }
  | { type: 'friend_request'; request: FriendRequest }
  | { type: 'friend_request_cancelled'; id: number; username: string }
  | { type: 'friend_request_declined'; id: number; username: string }
  /** To the sender's own tabs: `request.username` is the recipient. */
  | { type: 'friend_request_sent'; request: FriendRequest }
  /** To the actor's own tabs after a decline or cancel in another tab. */
  | { type: 'friend_request_removed'; id: number }
  | { type: 'friend_added'; username: string; online: boolean; is_streaming: boolean }
  | { type: 'friend_removed'; username: string }
  | { type: 'listener_count'; username: string; listeners: number }
  | { type: 'recording_stopped'; message: string }
  | { type: 'recording_added'; recording: Recording }
  /** To the owner and the owner's friends. */
  | { type: 'recording_deleted'; id: number }
  | { type: 'pong' };
