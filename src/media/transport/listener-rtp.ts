// Per-listener RTP identity for the shared encoded payload. werift's
// RTCRtpSender.sendRtp rewrites the header it is given in place (SSRC, payload
// type, extensions) and keeps the packet object in a 128-entry history indexed
// by sequence number for NACK retransmission, so listeners must never share
// an RtpPacket. Each listener gets its own ring of packet objects, one per
// history slot: reusing slot (seq mod 128) for seq keeps werift's history
// pointing at the right packet and allocates nothing per packet.
import { randomInt } from 'node:crypto';
import { RtpHeader, RtpPacket } from 'werift';

/** werift's RTP_HISTORY_SIZE (rtpSender.js). */
export const SENDER_HISTORY = 128;
const NO_EXTENSIONS: RtpHeader['extensions'] = [];

export class ListenerRtpStream {
  private readonly ring: RtpPacket[];
  private seq: number;
  private timestamp: number;
  private started = false;
  /** Packets produced, for stats. */
  packets = 0;

  constructor(
    readonly payloadType: number,
    /** Fixed starts make tests reproducible; by default random per RFC 3550 §5.1. */
    start: { seq?: number; timestamp?: number } = {},
  ) {
    this.seq = start.seq ?? randomInt(0, 0x10000);
    this.timestamp = start.timestamp ?? randomInt(0, 0x1_0000_0000);
    const empty = Buffer.alloc(0);
    this.ring = Array.from({ length: SENDER_HISTORY }, () => new RtpPacket(new RtpHeader(), empty));
  }

  /**
   * The packet to hand to this listener's sender for `payload` (shared, not copied), which
   * covers `samples` at 48 kHz. Timestamps advance by the audio duration, so a gap in the
   * listener's feed (it was slow, or joined late) never bends its clock.
   */
  next(payload: Buffer, samples: number, marker: boolean): RtpPacket {
    if (this.started) {
      this.seq = (this.seq + 1) & 0xffff;
    } else {
      this.started = true;
    }
    const packet = this.ring[this.seq % SENDER_HISTORY]!;
    const h = packet.header;
    h.version = 2;
    h.padding = false;
    h.paddingSize = 0;
    h.extension = false;
    h.marker = marker;
    h.payloadType = this.payloadType;
    h.sequenceNumber = this.seq;
    h.timestamp = this.timestamp;
    h.csrcLength = 0;
    h.extensions = NO_EXTENSIONS;
    packet.payload = payload;
    this.timestamp = (this.timestamp + samples) >>> 0;
    this.packets++;
    return packet;
  }

  /** Skips `samples` of timeline (packets this listener did not get). */
  skip(samples: number): void {
    this.timestamp = (this.timestamp + samples) >>> 0;
  }
}
