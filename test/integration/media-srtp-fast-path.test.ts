// A ListenerPeer (server side) sends through the SRTP fast path to a real werift
// listener over UDP: every packet arrives intact, and werift's RTCP sender reports
// (built from the fields the fast path keeps) describe what was actually sent.
// A server-side broadcaster connection receives through the SRTP fast receive path:
// every packet after werift's first reaches the sink, werift's books (receiver
// statistics, RTCP receiver reports, SRTP state) count them, and werift takes over
// seamlessly when the path is detached.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { RTCPeerConnection, RtcpRrPacket, RtcpSrPacket, type RtcpPacket, type RtpPacket } from 'werift';
import { ListenerPeer } from '../../src/media/transport/listener-peer.js';
import { answerOffer, peerConfig } from '../../src/media/transport/peer-config.js';
import { SrtpFastReceiver } from '../../src/media/transport/srtp-fast-receiver.js';
import { loadSharedAudio, TestBroadcaster, TestListener } from './media-peers.js';

const ICE = { iceAnnouncedAddress: undefined, icePortMin: undefined, icePortMax: undefined, iceServers: [] };
const NTP_UNIX_OFFSET_S = 2_208_988_800;

describe('listener RTP through the SRTP fast path', () => {
  const listener = new TestListener(10);
  const peer = new ListenerPeer('l1', new RTCPeerConnection(peerConfig(ICE)), true, () => {}, 60_000);
  after(async () => {
    await peer.close();
    await listener.close();
  });

  it('reaches a werift listener intact, in order, and its sender reports count exactly what was sent', async () => {
    const reports: RtcpSrPacket[] = [];
    const received = new Map<number, { timestamp: number; payload: Buffer }>();
    listener.pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => received.set(rtp.header.sequenceNumber, { timestamp: rtp.header.timestamp, payload: rtp.payload }));
    });
    const answer = await peer.answer(await listener.offer(), [], undefined);
    const transceiver = listener.pc.getTransceivers()[0]!;
    transceiver.receiver.dtlsTransport.onRtcp.subscribe((rtcp: RtcpPacket) => {
      if (rtcp instanceof RtcpSrPacket) reports.push(rtcp);
    });
    await listener.accept(answer);
    for (let i = 0; i < 200 && peer.state !== 'connected'; i++) await sleep(10);
    assert.equal(peer.state, 'connected');

    const payloadBytes = 80;
    const sent: Buffer[] = [];
    // 2.5 s of 20 ms packets: werift's first SR comes 0.5–1.5 s after the first packet.
    for (let i = 0; i < 125; i++) {
      const payload = randomBytes(payloadBytes);
      sent.push(payload);
      peer.send(payload, 960);
      await sleep(20);
    }
    for (let i = 0; i < 100 && received.size < sent.length; i++) await sleep(10);

    assert.equal(peer.fastPathFallback, null);
    assert.equal(peer.usesFastPath, true, 'the fast path served this listener');
    assert.equal(peer.sendErrors, 0, peer.lastError ?? '');
    assert.equal(received.size, sent.length, 'every packet arrived (loopback)');
    const seqs = [...received.keys()];
    const first = seqs[0]!;
    const firstTs = received.get(first)!.timestamp;
    for (let i = 0; i < sent.length; i++) {
      const got = received.get((first + i) & 0xffff);
      assert.ok(got, `packet ${i} arrived with the next sequence number`);
      assert.deepEqual(got.payload, sent[i]);
      assert.equal(got.timestamp, (firstTs + i * 960) >>> 0);
    }

    assert.ok(reports.length >= 1, 'at least one sender report arrived');
    const timestamps = new Set([...received.values()].map((r) => r.timestamp));
    for (const sr of reports) {
      const info = sr.senderInfo;
      assert.ok(info.packetCount >= 1 && info.packetCount <= sent.length, `packetCount ${info.packetCount}`);
      assert.equal(info.octetCount, info.packetCount * payloadBytes, 'octetCount counts payload bytes of the packets sent');
      assert.ok(timestamps.has(info.rtpTimestamp), 'the SR RTP timestamp is one of a sent packet');
      assert.equal(info.rtpTimestamp, (firstTs + (info.packetCount - 1) * 960) >>> 0, 'and it is the last packet counted');
      const ntpSeconds = Number(info.ntpTimestamp >> 32n) + Number(info.ntpTimestamp & 0xffff_ffffn) / 2 ** 32;
      assert.ok(Math.abs(ntpSeconds - NTP_UNIX_OFFSET_S - Date.now() / 1000) < 5, 'NTP timestamp is wall-clock time');
    }
  });

  it('with the fast path off (SRTP_FAST_PATH=0), werift sends and the listener still receives', async () => {
    const other = new TestListener(10);
    const plain = new ListenerPeer('l2', new RTCPeerConnection(peerConfig(ICE)), false, () => {}, 60_000);
    try {
      let packets = 0;
      other.pc.onTrack.subscribe((track) => track.onReceiveRtp.subscribe(() => packets++));
      const answer = await plain.answer(await other.offer(), [], undefined);
      await other.accept(answer);
      for (let i = 0; i < 200 && plain.state !== 'connected'; i++) await sleep(10);
      for (let i = 0; i < 25; i++) {
        plain.send(randomBytes(80), 960);
        await sleep(20);
      }
      for (let i = 0; i < 100 && packets < 25; i++) await sleep(10);
      assert.equal(plain.usesFastPath, false);
      assert.equal(packets, 25);
    } finally {
      await plain.close();
      await other.close();
    }
  });
});

describe('broadcaster RTP through the SRTP fast receive path', () => {
  it("takes every packet after werift's first, keeps werift's statistics, receiver reports and SRTP state true, and hands back on detach", async () => {
    const server = new RTCPeerConnection(peerConfig(ICE));
    const b = new TestBroadcaster();
    try {
      const viaWerift: number[] = [];
      const viaFast = new Map<number, Buffer>();
      let fast: SrtpFastReceiver | null = null;
      let ssrc = 0;
      // Subscribed before the offer is applied: werift announces the track while applying it.
      server.onTrack.subscribe((track) =>
        track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
          viaWerift.push(rtp.header.sequenceNumber);
          if (fast) return;
          ssrc = rtp.header.ssrc;
          const attached = SrtpFastReceiver.attach(server.getTransceivers()[0]!.receiver, ssrc, rtp.header.payloadType, (seq, _ts, payload) => viaFast.set(seq, payload));
          assert.ok(attached.ok, attached.ok ? '' : attached.reason);
          fast = attached.receiver;
        }),
      );
      const answer = await answerOffer(server, await b.offer(), [], () => {
        for (const t of server.getTransceivers()) t.setDirection('recvonly');
      });
      const receiver = server.getTransceivers()[0]!.receiver;
      const reports: RtcpRrPacket[] = [];
      b.pc.getTransceivers()[0]!.sender.dtlsTransport.onRtcp.subscribe((rtcp: RtcpPacket) => {
        if (rtcp instanceof RtcpRrPacket) reports.push(rtcp);
      });
      await b.accept(answer);
      // Before werift has seen a packet of the stream there is nothing to take over from.
      const early = SrtpFastReceiver.attach(receiver, 42, 111, () => {});
      assert.equal(early.ok, false);

      const audio = loadSharedAudio('noisy_snr0.wav').subarray(0, 48_000 * 2.5);
      await b.play(audio);
      const packets = audio.length / 960;
      for (let i = 0; i < 100 && viaWerift.length + viaFast.size < packets; i++) await sleep(10);

      assert.ok(fast, 'the fast path attached');
      const f = fast as SrtpFastReceiver;
      assert.deepEqual(viaWerift, [1000], "werift delivered only the first packet");
      assert.equal(viaFast.size, packets - 1, 'every later packet came the fast way (loopback)');
      for (let i = 1; i < packets; i++) assert.ok(viaFast.get(1000 + i)?.length, `packet ${1000 + i} delivered with its payload`);
      assert.equal(f.packets, packets - 1);
      assert.equal(f.rejected, 0);
      assert.equal(f.fallbackReason, null);

      const internals = receiver as unknown as {
        remoteStreams: Record<number, { packets_received: number; max_seq: number }>;
        dtlsTransport: { srtp: { remoteContext: { srtpSSRCStates: Record<number, { lastSequenceNumber: number }> } } };
      };
      assert.equal(internals.remoteStreams[ssrc]!.packets_received, packets, "werift's receive statistics count both paths");
      assert.equal(internals.remoteStreams[ssrc]!.max_seq, 1000 + packets - 1);
      assert.equal(internals.dtlsTransport.srtp.remoteContext.srtpSSRCStates[ssrc]!.lastSequenceNumber, 1000 + packets - 1);
      const blocks = reports.flatMap((r) => r.reports).filter((r) => r.ssrc === ssrc);
      assert.ok(blocks.length >= 1, 'the broadcaster got receiver reports');
      assert.ok(Math.max(...blocks.map((r) => r.highestSequence & 0xffff)) > 1000 + 20, 'receiver reports count packets the fast path took');

      // Detached, werift decrypts the stream again from where the fast path left it.
      f.detach();
      const before = viaWerift.length;
      await b.play(audio.subarray(0, 48_000 * 0.5));
      for (let i = 0; i < 100 && viaWerift.length - before < 25; i++) await sleep(10);
      assert.equal(viaWerift.length - before, 25, 'werift receives every packet after detach');
      assert.equal(f.packets, packets - 1, 'and the fast path none');
    } finally {
      await b.close();
      await server.close();
    }
  });
});
