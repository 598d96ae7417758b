// E2E support for hushcast browser tests — reuse it for streaming and recordings tests.
//
//   import { startServer, launchChromium, newUser, makeFriends, waitForPresence } from './support/index.js';
//
//   let server: TestServer; let browser: Browser;
//   before(async () => { server = await startServer(); browser = await launchChromium(); });
//   after(async () => { await browser?.close(); await server?.close(); });
//   const ann = await newUser(browser, server, { prefix: 'ann' });   // signs up through the UI, on the main page
//   const bob = await newUser(browser, server, { prefix: 'bob', via: 'api' });
//   await makeFriends(server, ann, bob);
//   await waitForPresence(ann.page, bob.username, 'online');
//
// Server (server.ts)
//   startServer(opts?) → TestServer   real server on HUSHCAST_TEST_IP (or 127.0.0.1), free port, temp DATA_DIR.
//     opts.mode 'inprocess' (default: buildApp, `server.app.services` reachable) | 'child' (node --import tsx src/main.ts)
//     opts.env {DENOISE_ENGINE:'none', …}, opts.dataDir (reuse after a crash), opts.deps (in-process AppDeps),
//     opts.configOverrides (in-process), opts.host.
//   TestServer: baseUrl, host, port, dataDir, mode, app?, child?, output(), stop(signal?) (child: kill and wait),
//     restart() (same port + data dir), close() (stop + remove the temp dir; idempotent).
//   testHost() → HUSHCAST_TEST_IP || '127.0.0.1'.
//   Requires web/dist (npm run build:web; test/run.sh builds it).
//
// Browser (browser.ts)
//   launchChromium({fakeMicWav?, fakeMedia?, extraArgs?}) → playwright Browser with CHROMIUM_ARGS;
//     fakeMicWav adds --use-fake-ui-for-media-stream --use-fake-device-for-media-stream --use-file-for-fake-audio-capture.
//   sharedAudio('noisy_snr0.wav') → absolute path under HUSHCAST_SHARED_DIR/audio (fails clearly when missing).
//
// Users (users.ts)
//   newUser(browser, server, {username?, prefix?, password?, via?: 'ui'|'api', contextOptions?}) → TestUser
//     {username, password, context, page, errors}: own context (cookie jar), page on the main page, signed in.
//     `errors` collects page errors and console.error lines.
//   uniqueUsername(prefix?)                  valid unique username.
//   signUpViaUi(page, u, p) / submitSignIn(page, u, p)   drive the auth form (the page must show it).
//   openHome(page) / openFriendPage(page, username)       navigate and wait for the page to be ready.
//   apiCall(context, server, method, path, body?)       JSON API call with the context's cookie + Origin; throws on non-2xx.
//   makeFriends(server, a, b)                a requests, b accepts (API); both pages update via WebSocket.
//   friendBadge(page, friend) → Locator;  waitForPresence(page, friend, 'offline'|'online'|'live', timeout?)
//   closeUser(user)                          closes the context (its WebSockets close → friends see offline).
//
// Page test ids (web/src): home-page, friend-page (data-relation), connection-status (data-state: connecting|open|down),
//   friend-<u> (data-presence), friend-badge-<u> (data-presence), friend-link-<u>, listen-<u> (only when live),
//   remove-<u> → confirm-remove-<u> | keep-<u>, incoming-<u>, accept-<u>, decline-<u>, outgoing-<u>, cancel-<u>,
//   add-friend-input, add-friend-submit, add-friend-message / add-friend-error, friends-message / friends-error,
//   requests-message / requests-error, auth-form (data-mode), auth-username, auth-password, auth-submit, auth-error,
//   sign-out, friend-page-badge, stream-section, recordings-section, live-section, friend-recordings-section.
export { CHROMIUM_ARGS, CHROMIUM_PATH, type LaunchOptions, launchChromium, sharedAudio } from './browser.js';
export { type StartServerOptions, type TestServer, startServer, testHost } from './server.js';
export {
  type NewUserOptions,
  type TestUser,
  apiCall,
  closeUser,
  friendBadge,
  makeFriends,
  newUser,
  openFriendPage,
  openHome,
  signUpViaUi,
  submitSignIn,
  uniqueUsername,
  waitForPresence,
} from './users.js';
