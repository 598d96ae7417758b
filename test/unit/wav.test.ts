import assert from 'node:assert/strict';
import { test } from 'node:test';
import wavefile from 'wavefile';
import { parseWavHeader, serializeWavHeader, setWavDataSize, WAV_HEADER_BYTES, WavFormatError } from '../../src/media/recording/wav.js';

const MONO_16 = { sampleRate: 48000, channels: 1, bitsPerSample: 16 };

function referenceWav(samples: Int16Array, sampleRate = 48000, channels = 1): Buffer {
  const w = new wavefile.WaveFile();
  w.fromScratch(channels, sampleRate, '16', samples);
  return Buffer.from(w.toBuffer());
}

test('serialized header is byte-identical to the header of an independent WAV writer (wavefile)', () => {
  for (const [rate, channels, n] of [[48000, 1, 3], [16000, 1, 0], [44100, 2, 10]] as const) {
    const ref = referenceWav(new Int16Array(n), rate, channels);
    const ours = serializeWavHeader({ sampleRate: rate, channels, bitsPerSample: 16 }, n * 2);
    assert.deepEqual(ours, ref.subarray(0, WAV_HEADER_BYTES), `rate ${rate} channels ${channels}`);
  }
});

test('parse then serialize reproduces a canonical header byte for byte', () => {
  const bytes = referenceWav(new Int16Array([5, -5, 7, 32767, -32768]));
  const h = parseWavHeader(bytes);
  assert.equal(h.dataOffset, 44);
  assert.equal(h.dataSize, 10);
  assert.equal(h.riffSize, bytes.length - 8);
  const again = serializeWavHeader(h, h.dataSize);
  assert.deepEqual(again, bytes.subarray(0, 44));
});

test('serialize then parse returns every field', () => {
  const h = parseWavHeader(serializeWavHeader(MONO_16, 96000));
  assert.deepEqual(h, {
    audioFormat: 1,
    channels: 1,
    sampleRate: 48000,
    bitsPerSample: 16,
    blockAlign: 2,
    byteRate: 96000,
    riffSize: 36 + 96000,
    dataOffset: 44,
    dataSize: 96000,
  });
});

test('setWavDataSize rewrites only the RIFF and data size fields, in place', () => {
  const header = serializeWavHeader(MONO_16, 0);
  const before = Buffer.from(header);
  setWavDataSize(header, 1234);
  assert.equal(header.readUInt32LE(4), 36 + 1234);
  assert.equal(header.readUInt32LE(40), 1234);
  for (let i = 0; i < 44; i++) if (i < 4 || (i >= 8 && i < 40)) assert.equal(header[i], before[i], `byte ${i}`);
  assert.throws(() => setWavDataSize(header, -1), RangeError);
  assert.throws(() => setWavDataSize(header, 2 ** 32), RangeError);
});

test('parse skips unknown chunks (with odd-size padding) before the data chunk', () => {
  const canonical = serializeWavHeader(MONO_16, 4);
  const list = Buffer.alloc(8 + 3 + 1);
  list.write('LIST', 0, 'latin1');
  list.writeUInt32LE(3, 4);
  const bytes = Buffer.concat([canonical.subarray(0, 36), list, canonical.subarray(36), Buffer.alloc(4)]);
  const h = parseWavHeader(bytes);
  assert.equal(h.dataOffset, 44 + list.length);
  assert.equal(h.dataSize, 4);
});

test('parse refuses what is not a RIFF/WAVE file with a WavFormatError', () => {
  assert.throws(() => parseWavHeader(Buffer.from('hello world, not a wav')), WavFormatError);
  assert.throws(() => parseWavHeader(Buffer.alloc(0)), /not a RIFF\/WAVE/);
  const noFmt = Buffer.alloc(20);
  noFmt.write('RIFFxxxxWAVEdata', 0, 'latin1');
  assert.throws(() => parseWavHeader(noFmt), /before "fmt "/);
  assert.throws(() => parseWavHeader(serializeWavHeader(MONO_16, 0).subarray(0, 36)), /no "data" chunk/);
});
