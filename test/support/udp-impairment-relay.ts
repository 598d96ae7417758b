// A UDP relay that stands between two WebRTC peers on one address (127.0.0.1,
// or the test namespace's veth address for Chromium) and treats their
// datagrams the way a bad network does: drops, duplicates and reorders them by
// a seeded PRNG, so a handshake bug shows every run instead of one in five.
// Each peer's host candidates in its SDP are replaced by relay ports; a datagram that reaches the relay port standing for peer X leaves
// from the relay port standing for its sender, so both peers see a consistent
// pair of addresses and ICE works unchanged. Not a test file itself.
import dgram from 'node:dgram';
import { prng } from './prng.js';

export interface Impairment {
  /** Probability of dropping a datagram (0..1). */
  loss: number;
  /** Probability of sending a datagram twice. */
  duplicate: number;
  /** Probability of holding a datagram back by reorderMs, so later ones overtake it. */
  reorder: number;
  /** How long a reordered datagram is held (uniform 0..reorderMs). */
  reorderMs: number;
  /** Only impair DTLS records (first byte 20..63, RFC 7983); STUN and SRTP pass untouched. */
  dtlsOnly: boolean;
  /** Drops exactly the datagrams this returns true for (before the random impairments); `from` is the sender's label. */
  drop?: (datagram: Buffer, from: string) => boolean;
}

export const NO_IMPAIRMENT: Impairment = { loss: 0, duplicate: 0, reorder: 0, reorderMs: 0, dtlsOnly: true };

export interface RelayCounters {
  forwarded: number;
  dropped: number;
  duplicated: number;
  reordered: number;
}

interface Endpoint {
  /** The peer's real address:port. */
  real: string;
  /** Whose candidate it is (rewrite's label). */
  label: string;
  /** The relay socket that stands for it. */
  socket: dgram.Socket;
}

const CANDIDATE = /^a=candidate:(\S+) (\d+) (udp|UDP) (\d+) (\S+) (\d+) typ host(.*)$/;

function isDtls(b: Buffer): boolean {
  return b.length > 0 && b[0]! >= 20 && b[0]! <= 63;
}

export class UdpImpairmentRelay {
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly random: () => number;
  private closed = false;
  impairment: Impairment;
  readonly counters: RelayCounters = { forwarded: 0, dropped: 0, duplicated: 0, reordered: 0 };

  constructor(seed: number, impairment: Impairment = NO_IMPAIRMENT) {
    this.random = prng(seed);
    this.impairment = impairment;
  }

  /**
   * Rewrites an SDP so that its host candidates on `host` point at relay sockets
   * on the same address (one per candidate) and drops every other candidate; the
   * relay then carries all of that peer's traffic.
   */
  async rewrite(sdp: string, host = '127.0.0.1', label = ''): Promise<string> {
    const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
    const out: string[] = [];
    for (const line of sdp.split(eol)) {
      const m = CANDIDATE.exec(line);
      if (!m) {
        if (!line.startsWith('a=candidate:')) out.push(line);
        continue;
      }
      const [, foundation, component, proto, priority, candidateHost, port, rest] = m;
      if (candidateHost !== host) continue;
      const socket = await this.bind(host);
      const real = `${host}:${port}`;
      this.endpoints.set(real, { real, label, socket });
      const relayPort = socket.address().port;
      socket.on('message', (msg, from) => this.forward(msg, `${from.address}:${from.port}`, real));
      out.push(`a=candidate:${foundation} ${component} ${proto} ${priority} ${host} ${relayPort} typ host${rest}`);
    }
    return out.join(eol);
  }

  /** A datagram from `from` reached the relay socket standing for `to`. */
  private forward(msg: Buffer, from: string, to: string): void {
    if (this.closed) return;
    const sender = this.endpoints.get(from);
    if (!sender) return; // not one of our peers' candidates
    const [host, port] = to.split(':') as [string, string];
    const send = () => {
      if (this.closed) return;
      sender.socket.send(msg, Number(port), host);
      this.counters.forwarded++;
    };
    const imp = this.impairment;
    if (imp.drop?.(msg, sender.label)) {
      this.counters.dropped++;
      return;
    }
    if (imp.dtlsOnly && !isDtls(msg)) return send();
    if (this.random() < imp.loss) {
      this.counters.dropped++;
      return;
    }
    const copies = this.random() < imp.duplicate ? 2 : 1;
    if (copies === 2) this.counters.duplicated++;
    for (let c = 0; c < copies; c++) {
      if (this.random() < imp.reorder) {
        this.counters.reordered++;
        const t = setTimeout(() => {
          this.timers.delete(t);
          send();
        }, this.random() * imp.reorderMs);
        this.timers.add(t);
      } else {
        send();
      }
    }
  }

  private bind(host: string): Promise<dgram.Socket> {
    const socket = dgram.createSocket('udp4');
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => resolve(socket));
    });
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const e of this.endpoints.values()) e.socket.close();
    this.endpoints.clear();
  }
}

/** Whether a datagram carries an encrypted (epoch ≥ 1) DTLS handshake record: a Finished. */
export function carriesFinished(datagram: Buffer): boolean {
  for (let at = 0; at + 13 <= datagram.length; ) {
    const type = datagram[at]!;
    const epoch = datagram.readUInt16BE(at + 3);
    if (type === 22 && epoch > 0) return true;
    at += 13 + datagram.readUInt16BE(at + 11);
  }
  return false;
}
