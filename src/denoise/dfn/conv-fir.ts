// Carries a temporal convolution's partial sums instead of its input frames (streaming, S = 1).
// df_dec's df_convp convolves 5 frames of c0 (64 × 96 values each) down to 10 channels: carrying
// the last 4 input frames means a 24,576-float context concatenated and sliced every hop, which
// measured ~25 % of a batched hop. Split into one 1-frame convolution per tap j (z_j = W_j * x_t),
// the output is a transposed-form FIR over those small results:
//   y_t = z_K(t) + A_{K-1}(t-1),  A_m(t) = z_m(t) + A_{m-1}(t-1),  A_0(t) = z_0(t)
// so the carried state is K partial sums of the OUTPUT (K × 10 × 96 = 3,840 floats). Zero initial
// sums equal the zero time-padding of the export; the bias is added once, in the newest tap.
// The K + 1 taps run as ONE grouped conv (see below), the FIR as a few Slice/Add/Concat nodes.
import { type Attr, type Graph, type Node, type StateSpec, type Tensor, attr, index, int64Tensor, makeNode, num, onnx } from './onnx-graph.js';

function floats(t: Tensor): Float32Array {
  if (t.rawData && t.rawData.length > 0) return new Float32Array(new Uint8Array(t.rawData).buffer);
  return Float32Array.from(t.floatData);
}

function intsAttr(name: string, ints: number[]): Attr {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints }) as unknown as Attr;
}

/**
 * For every carried context (Concat output → frames k) whose only model consumer is a Conv that
 * shrinks the channels, swaps the context state for the conv's partial sums. Mutates `states`.
 */
export function carryConvPartialSums(g: Graph, tag: string, contexts: Map<string, number>, states: StateSpec[]): void {
  const { constants } = index(g);
  let n = 0;
  for (const [ctxOut, k] of contexts) {
    const concat = g.node.find((x) => x.opType === 'Concat' && x.output[0] === ctxOut);
    const consumers = g.node.filter((x) => x.input.includes(ctxOut) && x.opType !== 'Slice');
    const conv = consumers[0];
    if (!concat || consumers.length !== 1 || conv!.opType !== 'Conv') continue;
    const w = constants.get(conv!.input[1] ?? '');
    if (!w || w.dims.length !== 4) continue;
    const [m, cg, kt, kw] = w.dims.map(num) as [number, number, number, number];
    const group = num(attr(conv!, 'group')?.i ?? 1);
    const pads = attr(conv!, 'pads')?.ints.map(num) ?? [0, 0, 0, 0];
    const strides = attr(conv!, 'strides')?.ints.map(num) ?? [1, 1];
    const state = states.find((s) => `${s.input}` === concat.input[0]);
    if (!state || kt !== k + 1 || kw !== 1 || pads.some((p) => p !== 0) || strides.some((s) => s !== 1) || m >= cg * group) continue;
    const freq = state.shape[3]!;
    const data = concat.input[1]!;
    const id = `${tag}.fir${n++}`;
    const all = floats(w);
    const nodes: Node[] = [];
    // All taps in ONE conv (onnxruntime loops batch × group per Conv node, so five 1-frame convs
    // cost ~4x one with five times the channels). Output channels of a grouped conv come group by
    // group, so the merged weight is ordered [group, tap, channel-in-group]; the partial sums are
    // carried in that order too, [B, group, k, mg, F], and only the final output is put back in
    // the model's [B, m, 1, F] order (channel = group·mg + c, which is what [group, 1, mg] gives).
    const mg = m / group;
    if (!Number.isInteger(mg) || k < 2) continue;
    const wAll = new Float32Array(kt * m * cg);
    const bAll = new Float32Array(kt * m);
    const bias = conv!.input[2] ? constants.get(conv!.input[2]) : undefined;
    if (conv!.input[2] && !bias) continue;
    const bv = bias ? floats(bias) : undefined;
    for (let gi = 0; gi < group; gi++) {
      for (let j = 0; j < kt; j++) {
        for (let c = 0; c < mg; c++) {
          const o = gi * mg + c;
          const row = (gi * kt + j) * mg + c;
          for (let ci = 0; ci < cg; ci++) wAll[row * cg + ci] = all[((o * cg + ci) * kt + j) * kw]!;
          // The bias is added once, in the newest tap (adding 0 elsewhere changes nothing).
          if (bv && j === kt - 1) bAll[row] = bv[o]!;
        }
      }
    }
    g.initializer.push(
      onnx.TensorProto.create({ name: `${id}.w`, dataType: onnx.TensorProto.DataType.FLOAT, dims: [kt * m, cg, 1, 1], rawData: new Uint8Array(wAll.buffer) }) as unknown as Tensor,
    );
    const convIn = [data, `${id}.w`];
    if (bv) {
      g.initializer.push(onnx.TensorProto.create({ name: `${id}.b`, dataType: onnx.TensorProto.DataType.FLOAT, dims: [kt * m], rawData: new Uint8Array(bAll.buffer) }) as unknown as Tensor);
      convIn.push(`${id}.b`);
    }
    const taps = makeNode(`${id}.taps`, 'Conv', convIn, [`${id}.z`]);
    taps.attribute = [intsAttr('kernel_shape', [1, 1]), intsAttr('pads', [0, 0, 0, 0]), intsAttr('strides', [1, 1]), intsAttr('dilations', [1, 1])];
    taps.attribute.push(onnx.AttributeProto.create({ name: 'group', type: onnx.AttributeProto.AttributeType.INT, i: group }) as unknown as Attr);
    nodes.push(taps);
    const i64 = (what: string, values: bigint[]) => {
      g.initializer.push(int64Tensor(`${id}.${what}`, values));
      return `${id}.${what}`;
    };
    // [B, group, taps, mg, F]: this hop's taps (z) and the carried sums (a, the state itself).
    nodes.push(makeNode(`${id}.z5`, 'Reshape', [`${id}.z`, i64('z5_shape', [0n, BigInt(group), BigInt(kt), BigInt(mg), BigInt(freq)])], [`${id}.z5`]));
    // A_0(t) = z_0(t); A_i(t) = z_i(t) + A_{i-1}(t-1) for i < k; y = z_k(t) + A_{k-1}(t-1).
    // One Split per tensor (one pass each) rather than a Slice per piece.
    const split = (what: string, x: string, sizes: number[], outs: string[]) => {
      const sp = makeNode(`${id}.${what}`, 'Split', [x], outs.map((o) => `${id}.${o}`));
      sp.attribute = [
        onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 2 }) as unknown as Attr,
        intsAttr('split', sizes),
      ];
      nodes.push(sp);
      return outs.map((o) => `${id}.${o}`);
    };
    const [z0, zMid, zLast] = split('zsplit', `${id}.z5`, [1, k - 1, 1], ['z0', 'zmid', 'zlast']) as [string, string, string];
    const [aHead, aLast] = split('asplit', id, [k - 1, 1], ['ahead', 'alast']) as [string, string];
    nodes.push(makeNode(`${id}.sum`, 'Add', [zMid, aHead], [`${id}.mid`]));
    nodes.push(makeNode(`${id}.y5`, 'Add', [zLast, aLast], [`${id}.y5`]));
    nodes.push(makeNode(`${id}.out`, 'Reshape', [`${id}.y5`, i64('out_shape', [0n, BigInt(m), 1n, BigInt(freq)])], [conv!.output[0]!]));
    const cat = makeNode(`${id}.carry`, 'Concat', [z0, `${id}.mid`], [`${id}_next`]);
    cat.attribute = [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 2 }) as unknown as Attr];
    nodes.push(cat);
    g.node.splice(g.node.indexOf(conv!), 1, ...nodes);
    // The context's Concat and Slice lose their consumers and are pruned with the merge.
    // Carried in the 5-D layout the FIR works in, so no Reshape copies it in or out each hop.
    states.splice(states.indexOf(state), 1, { input: id, output: `${id}_next`, shape: [-1, group, k, mg, freq], batchAxis: 0 });
  }
}
