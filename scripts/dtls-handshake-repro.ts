// Reproduces werift-to-werift DTLS handshakes over a lossy, duplicating,
// reordering UDP relay (no hushcast code): N handshakes, each reported as
// connected or stuck with both sides' DTLS flight and state. Exits 1 if any
// handshake did not complete. See docs/werift-dtls-retransmission.md.
//   npx tsx scripts/dtls-handshake-repro.ts [--runs 20] [--parallel 4] [--loss 0.2]
//        [--dup 0.05] [--reorder 0.25] [--reorder-ms 30] [--timeout-ms 20000] [--seed 1] [--all]
// --all impairs STUN and SRTP too (default: DTLS records only).
import { parseArgs } from 'node:util';
import { handshakeThroughRelay } from '../test/support/werift-handshake.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    parallel: { type: 'string', default: '4' },
    loss: { type: 'string', default: '0.2' },
    dup: { type: 'string', default: '0.05' },
    reorder: { type: 'string', default: '0.25' },
    'reorder-ms': { type: 'string', default: '30' },
    'timeout-ms': { type: 'string', default: '20000' },
    seed: { type: 'string', default: '1' },
    all: { type: 'boolean', default: false },
  },
});

const impairment = {
  loss: Number(values.loss),
  duplicate: Number(values.dup),
  reorder: Number(values.reorder),
  reorderMs: Number(values['reorder-ms']),
  dtlsOnly: !values.all,
};
const runs = Number(values.runs);
const times: number[] = [];
let next = 0;
async function lane(): Promise<void> {
  while (next < runs) {
    const i = next++;
    const r = await handshakeThroughRelay(Number(values.seed) * 1000 + i, impairment, Number(values['timeout-ms']));
    if (r.connected) times.push(r.ms);
    console.log(`run ${i}: ${r.connected ? 'connected' : 'STUCK'} after ${Math.round(r.ms)} ms — ${r.detail}`);
  }
}
await Promise.all(Array.from({ length: Number(values.parallel) }, lane));
times.sort((x, y) => x - y);
const median = times[times.length >> 1];
console.log(`${times.length}/${runs} connected; median ${median === undefined ? '-' : Math.round(median)} ms, max ${Math.round(times.at(-1) ?? NaN)} ms`);
process.exit(times.length === runs ? 0 : 1);
