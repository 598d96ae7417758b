// Every WebSocket message of /ws (docs/api.md "WebSocket"): what the server
// sends, and the schema of what a client may send.
import { z } from 'zod';

export type ServerMessage =
  | { type: 'hello'; username: string }
  | { type: 'presence'; username: string; online: boolean }
  | { type: 'streaming_status'; username: string; is_streaming: boolean; started_at?: string | null }
  | { type: 'friend_request'; request: { id: number; username: string; created_at: string } }
  | { type: 'friend_request_cancelled'; id: number; username: string }
  | { type: 'friend_request_declined'; id: number; username: string }
  | { type: 'friend_request_sent'; request: { id: number; username: string; created_at: string } }
  | { type: 'friend_request_removed'; id: number }
  | { type: 'friend_added'; username: string; online: boolean; is_streaming: boolean }
  | { type: 'friend_removed'; username: string }
  | { type: 'listener_count'; username: string; listeners: number }
  | { type: 'recording_stopped'; message: string }
  | { type: 'recording_added'; recording: Record<string, unknown> }
  | { type: 'recording_deleted'; id: number }
  | { type: 'pong' };

export const ClientMessage = z.object({ type: z.literal('ping') });
export type ClientMessage = z.infer<typeof ClientMessage>;

/** Largest client message accepted; bigger ones close the socket with 1009. */
export const MAX_CLIENT_MESSAGE_BYTES = 4096;
