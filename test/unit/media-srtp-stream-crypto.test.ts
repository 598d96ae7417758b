// The fast SRTP paths must agree with werift's own SRTP code (the code a werift
// peer runs) for both profiles browsers negotiate, across a sequence-number wrap
// (ROC 0 → 1): packets we protect, werift authenticates and decrypts; packets werift
// protects, we authenticate and decrypt, and anything forged or corrupt changes nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { RtpHeader, RtpPacket, SrtpSession } from 'werift';
import { ntpFromPerformanceMs } from '../../src/media/transport/srtp-fast-sender.js';
import {
  PROFILE_AEAD_AES_128_GCM,
  PROFILE_AES_CM_HMAC_SHA1_80,
  SrtpStreamProtector,
  SrtpStreamUnprotector,
} from '../../src/media/transport/srtp-stream-crypto.js';

interface LocalContext {
  srtpSessionKey: Buffer;
  srtpSessionSalt: Buffer;
  srtpSessionAuthTag: Buffer;
}

function keysOf(session: SrtpSession, profile: number, side: 'localContext' | 'remoteContext') {
  const ctx = (session as unknown as Record<typeof side, LocalContext>)[side];
  return { profile, key: ctx.srtpSessionKey, salt: ctx.srtpSessionSalt, authKey: ctx.srtpSessionAuthTag };
}

function sessions(profile: number): { sender: SrtpSession; receiver: SrtpSession } {
  const saltLength = profile === PROFILE_AEAD_AES_128_GCM ? 12 : 14;
  const a = { key: randomBytes(16), salt: randomBytes(saltLength) };
  const b = { key: randomBytes(16), salt: randomBytes(saltLength) };
  const sender = new SrtpSession({
    keys: { localMasterKey: a.key, localMasterSalt: a.salt, remoteMasterKey: b.key, remoteMasterSalt: b.salt },
    profile,
  } as ConstructorParameters<typeof SrtpSession>[0]);
  const receiver = new SrtpSession({
    keys: { localMasterKey: b.key, localMasterSalt: b.salt, remoteMasterKey: a.key, remoteMasterSalt: a.salt },
    profile,
  } as ConstructorParameters<typeof SrtpSession>[0]);
  return { sender, receiver };
}

function protectorFor(session: SrtpSession, profile: number, ssrc: number): SrtpStreamProtector {
  return new SrtpStreamProtector(keysOf(session, profile, 'localContext'), ssrc);
}

/** werift's SRTP protection of one RTP packet. */
function weriftPacket(session: SrtpSession, seq: number, payload: Buffer, extra: Partial<RtpHeader> = {}): Buffer {
  return session.encrypt(payload, new RtpHeader({ sequenceNumber: seq, timestamp: seq * 960, payloadType: 111, ssrc: 0xabcdef01, ...extra }));
}

for (const [name, profile] of [
  ['AES_CM_128_HMAC_SHA1_80', PROFILE_AES_CM_HMAC_SHA1_80],
  ['AEAD_AES_128_GCM', PROFILE_AEAD_AES_128_GCM],
] as const) {
  describe(`SrtpStreamProtector with ${name}`, () => {
    it('produces packets werift decrypts to the same header and payload, across a sequence wrap (ROC 0 → 1)', () => {
      const { sender, receiver } = sessions(profile);
      const ssrc = 0xdeadbeef;
      const protector = protectorFor(sender, profile, ssrc);
      let seq = 65_530;
      let timestamp = 0xffff_f000;
      for (let i = 0; i < 14; i++) {
        const payload = randomBytes(20 + i * 7);
        const marker = i === 3;
        const srtp = protector.protect(seq, timestamp, marker, 111, payload);
        const plain = RtpPacket.deSerialize(receiver.decrypt(srtp));
        assert.equal(plain.header.sequenceNumber, seq);
        assert.equal(plain.header.timestamp, timestamp);
        assert.equal(plain.header.ssrc, ssrc);
        assert.equal(plain.header.payloadType, 111);
        assert.equal(plain.header.marker, marker);
        assert.equal(plain.header.extension, false);
        assert.deepEqual(plain.payload, payload);
        seq = (seq + 1) & 0xffff;
        timestamp = (timestamp + 960) >>> 0;
      }
      assert.deepEqual(protector.position, { lastSeq: 7, rolloverCounter: 1 });
    });

    it("is byte-identical to werift's own SRTP encryption of the same RTP packet, after the wrap too", () => {
      const { sender } = sessions(profile);
      const ssrc = 0x01020304;
      const protector = protectorFor(sender, profile, ssrc);
      for (const seq of [65_534, 65_535, 0, 1]) {
        const payload = randomBytes(60);
        const ours = protector.protect(seq, 123_456, false, 111, payload);
        const header = new RtpHeader({ sequenceNumber: seq, timestamp: 123_456, payloadType: 111, ssrc, marker: false });
        const theirs = sender.encrypt(payload, header);
        assert.deepEqual(ours, theirs, `seq ${seq}`);
      }
    });

    it('continues a stream werift started (resumed rollover counter)', () => {
      const { sender, receiver } = sessions(profile);
      const ssrc = 42;
      const ctx = (sender as unknown as { localContext: LocalContext }).localContext;
      // werift sent 65535 and wrapped to 0 with ROC 1 (the receiver saw the same packets).
      for (const seq of [65_535, 0]) {
        const header = new RtpHeader({ sequenceNumber: seq, timestamp: 1, payloadType: 111, ssrc });
        receiver.decrypt(sender.encrypt(Buffer.from([1, 2, 3]), header));
      }
      const protector = new SrtpStreamProtector(
        { profile, key: ctx.srtpSessionKey, salt: ctx.srtpSessionSalt, authKey: ctx.srtpSessionAuthTag },
        ssrc,
        { lastSeq: 0, rolloverCounter: 1 },
      );
      const payload = randomBytes(33);
      const plain = RtpPacket.deSerialize(receiver.decrypt(protector.protect(1, 2, false, 111, payload)));
      assert.deepEqual(plain.payload, payload);
    });

    it('a tampered packet fails werift authentication (the tag covers header and payload)', () => {
      const { sender, receiver } = sessions(profile);
      const protector = protectorFor(sender, profile, 7);
      const srtp = protector.protect(100, 200, false, 111, randomBytes(40));
      srtp[14]! ^= 1;
      assert.throws(() => receiver.decrypt(srtp));
    });
  });
}

for (const [name, profile] of [
  ['AES_CM_128_HMAC_SHA1_80', PROFILE_AES_CM_HMAC_SHA1_80],
  ['AEAD_AES_128_GCM', PROFILE_AEAD_AES_128_GCM],
] as const) {
  describe(`SrtpStreamUnprotector with ${name}`, () => {
    const ssrc = 0xabcdef01;
    const unprotectorFor = (receiver: SrtpSession, resume?: { lastSeq: number; rolloverCounter: number }) =>
      new SrtpStreamUnprotector(keysOf(receiver, profile, 'remoteContext'), ssrc, resume);

    it('decrypts what werift protects to the same header fields and payload, across a sequence wrap', () => {
      const { sender, receiver } = sessions(profile);
      const u = unprotectorFor(receiver);
      let seq = 65_531;
      for (let i = 0; i < 10; i++) {
        const payload = randomBytes(30 + i);
        const plain = u.unprotect(weriftPacket(sender, seq, payload, { marker: i === 2 }));
        assert.deepEqual(plain, payload, `seq ${seq}`);
        assert.equal(u.seq, seq);
        assert.equal(u.timestamp, (seq * 960) >>> 0);
        assert.equal(u.payloadType, 111);
        assert.equal(u.marker, i === 2);
        seq = (seq + 1) & 0xffff;
      }
      assert.deepEqual(u.position, { lastSeq: 4, rolloverCounter: 1 });
    });

    it('decrypts packets reordered across the wrap (65535 after 0 and 1) with the right rollover counter', () => {
      const { sender, receiver } = sessions(profile);
      const u = unprotectorFor(receiver);
      const packets = new Map<number, { srtp: Buffer; payload: Buffer }>();
      for (const seq of [65_533, 65_534, 65_535, 0, 1, 2]) {
        const payload = randomBytes(40);
        packets.set(seq, { srtp: weriftPacket(sender, seq, payload), payload });
      }
      for (const seq of [65_533, 65_534, 0, 1, 65_535, 2]) {
        const p = packets.get(seq)!;
        assert.deepEqual(u.unprotect(p.srtp), p.payload, `seq ${seq}`);
      }
      assert.deepEqual(u.position, { lastSeq: 2, rolloverCounter: 1 }, 'the late 65535 did not move the position back');
    });

    it('rejects a tampered or forged packet as auth and changes nothing: the next genuine packet still decrypts', () => {
      const { sender, receiver } = sessions(profile);
      const u = unprotectorFor(receiver);
      const first = randomBytes(20);
      assert.deepEqual(u.unprotect(weriftPacket(sender, 100, first)), first);
      const tampered = weriftPacket(sender, 101, randomBytes(20));
      tampered[tampered.length - 12]! ^= 0x40;
      assert.equal(u.unprotect(tampered), null);
      assert.equal(u.failure, 'auth');
      // A forged packet far ahead would move the rollover counter if it were trusted.
      const forged = weriftPacket(sender, 40_000, randomBytes(20));
      forged[forged.length - 1]! ^= 1;
      assert.equal(u.unprotect(forged), null);
      assert.deepEqual(u.position, { lastSeq: 100, rolloverCounter: 0 });
      const next = randomBytes(20);
      assert.deepEqual(u.unprotect(weriftPacket(sender, 101, next)), next);
      assert.equal(u.failure, null);
    });

    it('skips CSRCs and a header extension and strips padding', () => {
      const { sender, receiver } = sessions(profile);
      const u = unprotectorFor(receiver);
      const payload = randomBytes(25);
      const srtp = weriftPacket(sender, 7, Buffer.concat([payload, Buffer.from([0, 0, 3])]), {
        padding: true,
        csrc: [11, 22],
        csrcLength: 2,
        extension: true,
        extensions: [{ id: 1, payload: Buffer.from([0x80]) }],
      });
      assert.equal(srtp[0]! & 0x3f, 0x32, 'P and X set, two CSRCs');
      assert.deepEqual(u.unprotect(srtp), payload);
      assert.equal(u.seq, 7);
    });

    it('continues a stream werift was receiving (resumed position after a wrap)', () => {
      const { sender, receiver } = sessions(profile);
      for (const seq of [65_535, 0]) receiver.decrypt(weriftPacket(sender, seq, Buffer.from([1])));
      const u = unprotectorFor(receiver, { lastSeq: 0, rolloverCounter: 1 });
      const payload = randomBytes(12);
      assert.deepEqual(u.unprotect(weriftPacket(sender, 1, payload)), payload);
    });

    it('refuses malformed packets (too short, not RTP version 2) as malformed', () => {
      const { receiver } = sessions(profile);
      const u = unprotectorFor(receiver);
      assert.equal(u.unprotect(Buffer.alloc(12 + u.tagLength - 1, 0x80)), null);
      assert.equal(u.failure, 'malformed');
      const v1 = Buffer.alloc(60);
      v1[0] = 0x40;
      assert.equal(u.unprotect(v1), null);
      assert.equal(u.failure, 'malformed');
      assert.equal(u.position, null);
    });
  });
}

describe('ntpFromPerformanceMs', () => {
  it('gives NTP seconds since 1900 in the upper 32 bits and a binary fraction in the lower', () => {
    const nowMs = performance.now();
    const ntp = ntpFromPerformanceMs(nowMs);
    const unixMs = performance.timeOrigin + nowMs;
    const seconds = Number(ntp >> 32n);
    const fraction = Number(ntp & 0xffff_ffffn) / 2 ** 32;
    assert.ok(Math.abs((seconds + fraction) * 1000 - 2_208_988_800_000 - unixMs) < 1);
    assert.ok(fraction >= 0 && fraction < 1);
  });
});
