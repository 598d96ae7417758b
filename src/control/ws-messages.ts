// Every WebSocket message of /ws (docs/api.md "WebSocket"): what the server
// sends (the shared contract, src/contract.ts), and the schema of what a client may send.
import { z } from 'zod';

export type { ServerMessage } from '../contract.js';

export const ClientMessage = z.object({ type: z.literal('ping') });
export type ClientMessage = z.infer<typeof ClientMessage>;

/** Largest client message accepted; bigger ones close the socket with 1009. */
export const MAX_CLIENT_MESSAGE_BYTES = 4096;
