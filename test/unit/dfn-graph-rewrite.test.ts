import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import onnxProto from 'onnx-proto';
import { UnsupportedExportError, buildStatefulGraph } from '../../src/denoise/dfn/graph-rewrite.js';
import { dfnModelDir } from '../support/dfn-audio.js';

const { onnx } = onnxProto;
const read = (f: string) => readFileSync(path.join(dfnModelDir(), f));

test('the merged stateful graph carries 8 batch-sized states: 2 input contexts, the deep-filter conv\'s partial sums, 5 GRU states', () => {
  const g = buildStatefulGraph(read('enc.onnx'), read('erb_dec.onnx'), read('df_dec.onnx'));
  assert.deepEqual(
    g.states.map((s) => [s.input, s.shape.join('x')]),
    [
      ['enc.ctx0', '-1x1x2x32'],
      ['enc.ctx1', '-1x2x2x96'],
      ['enc.h0', '1x-1x256'],
      ['erb_dec.h0', '1x-1x256'],
      ['erb_dec.h1', '1x-1x256'],
      ['df_dec.fir0', '-1x2x4x5x96'],
      ['df_dec.h0', '1x-1x256'],
      ['df_dec.h1', '1x-1x256'],
    ],
  );
  const floats = g.states.reduce((n, s) => n + s.shape.reduce((a, d) => a * Math.abs(d), 1), 0);
  // Per stream: the export's hidden state is ~26k floats (26,304 with c0's 4-frame context);
  // carrying the 10-channel partial sums instead of 64-channel input frames leaves 5,568.
  assert.equal(floats, 5_568);
  const m = onnx.ModelProto.decode(g.bytes);
  assert.deepEqual(m.graph!.output!.map((o) => o.name).slice(0, 3), ['lsnr', 'm', 'coefs']);
  assert.ok(!m.graph!.node!.some((n) => n.opType === 'Pad'), 'no time pad left');
  const hopDim = m.graph!.input!.find((i) => i.name === 'feat_erb')!.type!.tensorType!.shape!.dim![2]!;
  assert.equal(Number(hopDim.dimValue), 1, 'one hop per run');
});

/** enc.onnx with one edit applied to its decoded protobuf. */
function editedEnc(edit: (g: InstanceType<typeof onnx.GraphProto>) => void): Uint8Array {
  const m = onnx.ModelProto.decode(read('enc.onnx'));
  edit(m.graph as InstanceType<typeof onnx.GraphProto>);
  return onnx.ModelProto.encode(m).finish();
}

test('an export whose time pad also pads future frames is refused, naming the node', () => {
  const enc = editedEnc((g) => {
    const c = g.node.find((n) => n.output![0] === '/erb_conv0/0/Constant_1_output_0')!;
    const t = c.attribute![0]!.t!;
    t.rawData = new Uint8Array(BigInt64Array.from([0n, 0n, 2n, 1n]).buffer);
  });
  assert.throws(
    () => buildStatefulGraph(enc, read('erb_dec.onnx'), read('df_dec.onnx')),
    (e: unknown) => e instanceof UnsupportedExportError && /enc: Pad \/erb_conv0\/0\/Pad is not a zero pad of past frames/.test(e.message),
  );
});

test('an export with an operator the rewrite does not know (e.g. LSTM) is refused', () => {
  const enc = editedEnc((g) => {
    g.node.find((n) => n.opType === 'Relu')!.opType = 'LSTM';
  });
  assert.throws(() => buildStatefulGraph(enc, read('erb_dec.onnx'), read('df_dec.onnx')), /operator LSTM .* not part of the DeepFilterNet3 export/);
});

test('an export whose GRU starts from a non-zero state is refused', () => {
  const enc = editedEnc((g) => {
    const zeros = g.node.find((n) => n.opType === 'ConstantOfShape' && n.name!.includes('emb_gru'))!;
    zeros.attribute![0]!.t!.rawData = new Uint8Array(new Float32Array([0.5]).buffer);
  });
  assert.throws(() => buildStatefulGraph(enc, read('erb_dec.onnx'), read('df_dec.onnx')), /GRU .* does not start from a zero state/);
});
