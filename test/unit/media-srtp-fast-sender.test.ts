// The fast SRTP path must produce packets werift's own SRTP code (the same code a
// werift listener runs) authenticates and decrypts, for both profiles browsers
// negotiate, across a sequence-number wrap (ROC 0 → 1).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { RtpHeader, RtpPacket, SrtpSession } from 'werift';
import {
  ntpFromPerformanceMs,
  PROFILE_AEAD_AES_128_GCM,
  PROFILE_AES_CM_HMAC_SHA1_80,
  SrtpStreamProtector,
} from '../../src/media/srtp-fast-sender.js';

interface LocalContext {
  srtpSessionKey: Buffer;
  srtpSessionSalt: Buffer;
  srtpSessionAuthTag: Buffer;
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
  const ctx = (session as unknown as { localContext: LocalContext }).localContext;
  return new SrtpStreamProtector(
    { profile, key: ctx.srtpSessionKey, salt: ctx.srtpSessionSalt, authKey: ctx.srtpSessionAuthTag },
    ssrc,
  );
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
