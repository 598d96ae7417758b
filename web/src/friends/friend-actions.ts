// The friend actions of the contract. Each one refreshes the presence store
// afterwards so this tab is right even before (or without) the WebSocket echo.
import { api, type WithMessage } from '../api.js';
import type { FriendRequest } from '../contract.js';
import { presence } from '../presence.js';

type Answer = WithMessage & Record<string, unknown>;

async function andRefresh<T extends Answer>(p: Promise<T>): Promise<T> {
  const res = await p;
  await presence.refresh();
  return res;
}

const seg = encodeURIComponent;

export const friendActions = {
  /** 201 {request, message}, or 200 {friend, message} when they had already asked you. */
  sendRequest: (username: string) =>
    andRefresh(api.post<Answer & { request?: FriendRequest; friend?: { username: string } }>('/api/friends/requests', { username })),
  accept: (id: number) => andRefresh(api.post<Answer>(`/api/friends/requests/${id}/accept`)),
  decline: (id: number) => andRefresh(api.post<Answer>(`/api/friends/requests/${id}/decline`)),
  cancel: (id: number) => andRefresh(api.del<Answer>(`/api/friends/requests/${id}`)),
  remove: (username: string) => andRefresh(api.del<Answer>(`/api/friends/${seg(username)}`)),
};
