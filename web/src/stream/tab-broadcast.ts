// The tab's one broadcast. It outlives the broadcast panel, so moving to a
// friend's page (the app is a single-page app) does not end the stream; only
// Stop, closing the tab (beacon), signing out or the server end it.
import { presence } from '../presence.js';
import { Broadcast } from './broadcast.js';

export const tabBroadcast = new Broadcast();

let serverLive: boolean | null = null;
presence.subscribe((s) => {
  const live = s.me?.is_streaming ?? null;
  // streaming_status:false for us while this tab still sends: the server ended the stream
  // (no media, lost connection, shutdown).
  if (serverLive === true && live === false) {
    tabBroadcast.endedByServer('Your stream ended: the server lost the connection or stopped it.');
  }
  // Signed out (the presence store was reset): the server ends the stream when the last
  // socket closes; release the microphone here.
  if (s.connection === 'idle') tabBroadcast.endedByServer(null);
  serverLive = live;
});
