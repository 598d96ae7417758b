// The server half of bench/presence.ts, run as a child process so the
// benchmark's 1,000 client sockets do not share its event loop. Configured by
// the environment like src/main.ts; talks to the parent over the IPC channel.
import { loadConfig } from '../src/config.js';
import { buildApp } from '../src/control/app.js';

type Command = { cmd: 'streaming'; userId: number; username: string; isStreaming: boolean } | { cmd: 'stop' };

const config = loadConfig();
// Presence only: no media plane (its worker threads would compete with the measurement for the CPU).
const { app, close } = await buildApp(config, { serveWeb: false, media: null });
await app.listen({ port: config.port, host: config.host });
const { port } = app.server.address() as { port: number };

process.on('message', (msg: Command) => {
  if (msg.cmd === 'streaming') {
    // What the streaming plane sends when a stream starts or stops (issue 3).
    app.services.notifier
      .toUserAndFriends(msg.userId, { type: 'streaming_status', username: msg.username, is_streaming: msg.isStreaming, started_at: msg.isStreaming ? new Date().toISOString() : null })
      .catch((err) => app.log.error({ err }, 'bench publish failed'));
  } else if (msg.cmd === 'stop') {
    close().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  }
});
process.send!({ ready: true, port, bus: app.services.bus.kind });
