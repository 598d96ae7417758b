// Wire types of the HTTP + WebSocket contract (docs/api.md) as the browser
// sees them. Kept in one place so a contract change is one edit here.

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
  /** An un-denoised companion exists (RECORD_RAW): /api/recordings/:id/audio?raw=1. */
  has_raw?: boolean;
}

/** Server → client WebSocket messages. */
export type ServerEvent =
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

export type ServerEventType = ServerEvent['type'];
export type ServerEventOf<K extends ServerEventType> = Extract<ServerEvent, { type: K }>;
