// A ListenerPeer (server side) sends through the SRTP fast path to a real werift
// listener over UDP: every packet arrives intact, and werift's RTCP sender reports
// (built from the fields the fast path keeps) describe what was actually sent.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { RTCPeerConnection, RtcpSrPacket, type RtcpPacket } from 'werift';
import { ListenerPeer } from '../../src/media/listener-peer.js';
import { peerConfig } from '../../src/media/peer-config.js';
import { TestListener } from './media-peers.js';

const ICE = { iceAnnouncedAddress: undefined, icePortMin: undefined, icePortMax: undefined, iceServers: [] };
const NTP_UNIX_OFFSET_S = 2_208_988_800;

describe('listener RTP through the SRTP fast path', () => {
  const listener = new TestListener(10);
  const peer = new ListenerPeer('l1', new RTCPeerConnection(peerConfig(ICE)), true, () => {});
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
    const plain = new ListenerPeer('l2', new RTCPeerConnection(peerConfig(ICE)), false, () => {});
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
