import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RtpPacket } from 'werift';
import { ListenerRtpStream, SENDER_HISTORY } from '../../src/media/transport/listener-rtp.js';

describe('ListenerRtpStream (per-listener RTP identity for a shared payload)', () => {
  it('two listeners of one payload get distinct packet objects sharing the payload bytes', () => {
    const a = new ListenerRtpStream(111, { seq: 10, timestamp: 1000 });
    const b = new ListenerRtpStream(109, { seq: 60_000, timestamp: 7 });
    const payload = Buffer.from([1, 2, 3]);
    const pa = a.next(payload, 960, false);
    const pb = b.next(payload, 960, false);
    assert.notEqual(pa, pb);
    assert.notEqual(pa.header, pb.header);
    assert.equal(pa.payload, payload);
    assert.equal(pb.payload, payload);
    assert.equal(pa.header.sequenceNumber, 10);
    assert.equal(pb.header.sequenceNumber, 60_000);
    assert.equal(pa.header.payloadType, 111);
    assert.equal(pb.header.payloadType, 109);
  });

  it('sequence numbers count up by one and wrap at 16 bits; timestamps advance by the audio duration', () => {
    const s = new ListenerRtpStream(111, { seq: 65_534, timestamp: 0xffff_fc00 });
    const seen = [0, 1, 2, 3].map((i) => s.next(Buffer.alloc(1), i === 2 ? 480 : 960, false).header);
    assert.deepEqual(
      seen.map((h) => h.sequenceNumber),
      [65_534, 65_535, 0, 1],
    );
    assert.deepEqual(
      seen.map((h) => h.timestamp),
      [0xffff_fc00, (0xffff_fc00 + 960) >>> 0, (0xffff_fc00 + 1920) >>> 0, (0xffff_fc00 + 2400) >>> 0],
    );
  });

  it('a header rewritten in place by the sender (as werift does) is fully reset on reuse', () => {
    const s = new ListenerRtpStream(111, { seq: 0, timestamp: 0 });
    const first = s.next(Buffer.from([9]), 960, true);
    // What RTCRtpSender.sendRtp does to the object it is given:
    first.header.ssrc = 1234;
    first.header.payloadType = 96;
    first.header.extensions = [{ id: 1, payload: Buffer.from([1]) }];
    first.header.extension = true;
    for (let i = 1; i < SENDER_HISTORY; i++) s.next(Buffer.from([i & 0xff]), 960, false);
    const again = s.next(Buffer.from([7]), 960, false);
    assert.equal(again, first, 'slot reused after one history length');
    assert.equal(again.header.payloadType, 111);
    assert.equal(again.header.extensions.length, 0);
    assert.equal(again.header.marker, false);
    assert.equal(again.header.sequenceNumber, SENDER_HISTORY);
  });

  it('packets in the sender history window stay distinct (NACK retransmits the right one)', () => {
    const s = new ListenerRtpStream(111, { seq: 100, timestamp: 0 });
    const window: RtpPacket[] = [];
    for (let i = 0; i < SENDER_HISTORY; i++) window.push(s.next(Buffer.from([i]), 960, false));
    assert.equal(new Set(window).size, SENDER_HISTORY);
    window.forEach((p, i) => assert.equal(p.payload[0], i));
  });

  it('serializes to a valid RTP packet that round-trips', () => {
    const s = new ListenerRtpStream(111, { seq: 42, timestamp: 4242 });
    const p = s.next(Buffer.from([0xfc, 0xff, 0xfe]), 960, true);
    p.header.ssrc = 0xdeadbeef;
    const back = RtpPacket.deSerialize(p.serialize());
    assert.equal(back.header.sequenceNumber, 42);
    assert.equal(back.header.timestamp, 4242);
    assert.equal(back.header.ssrc, 0xdeadbeef);
    assert.equal(back.header.marker, true);
    assert.deepEqual([...back.payload], [0xfc, 0xff, 0xfe]);
  });

  it('skip() moves the timeline on without sending', () => {
    const s = new ListenerRtpStream(111, { seq: 0, timestamp: 0 });
    s.next(Buffer.alloc(1), 960, false);
    s.skip(1920);
    const p = s.next(Buffer.alloc(1), 960, false);
    assert.equal(p.header.timestamp, 960 + 1920);
    assert.equal(p.header.sequenceNumber, 1);
  });
});
