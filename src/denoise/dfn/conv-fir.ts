// Carries a temporal convolution's partial sums instead of its input frames (streaming, S = 1).
// df_dec's df_convp convolves 5 frames of c0 (64 × 96 values each) down to 10 channels: carrying
// the last 4 input frames means a 24,576-float context concatenated and sliced every hop, which
// measured ~25 % of a batched hop. Split into one 1-frame convolution per tap j (z_j = W_j * x_t),
// the output is a transposed-form FIR over those small results:
//   y_t = z_K(t) + A_{K-1}(t-1),  A_m(t) = z_m(t) + A_{m-1}(t-1),  A_0(t) = z_0(t)
// so the carried state is K partial sums of the OUTPUT (K × 10 × 96 = 3,840 floats). Zero initial
// sums equal the zero time-padding of the export; the bias is added once, in the newest tap.
import type { StateSpec } from './graph-rewrite.js';
import { type Attr, type Graph, type Node, type Tensor, attr, index, makeNode, num, onnx } from './onnx-graph.js';

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
    const z: string[] = [];
    for (let j = 0; j < kt; j++) {
      const wj = new Float32Array(m * cg);
      for (let o = 0; o < m; o++) for (let c = 0; c < cg; c++) wj[o * cg + c] = all[((o * cg + c) * kt + j) * kw]!;
      g.initializer.push(
        onnx.TensorProto.create({ name: `${id}.w${j}`, dataType: onnx.TensorProto.DataType.FLOAT, dims: [m, cg, 1, 1], rawData: new Uint8Array(wj.buffer) }) as unknown as Tensor,
      );
      const bias = j === kt - 1 && conv!.input[2] ? [conv!.input[2]] : [];
      const tap = makeNode(`${id}.tap${j}`, 'Conv', [data, `${id}.w${j}`, ...bias], [`${id}.z${j}`]);
      tap.attribute = [intsAttr('kernel_shape', [1, 1]), intsAttr('pads', [0, 0, 0, 0]), intsAttr('strides', [1, 1]), intsAttr('dilations', [1, 1])];
      tap.attribute.push(onnx.AttributeProto.create({ name: 'group', type: onnx.AttributeProto.AttributeType.INT, i: group }) as unknown as Attr);
      nodes.push(tap);
      z.push(`${id}.z${j}`);
    }
    const prev = Array.from({ length: k }, (_, i) => `${id}.a${i}`);
    const split = makeNode(`${id}.split`, 'Split', [id], prev);
    split.attribute = [
      onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }) as unknown as Attr,
      intsAttr('split', Array.from({ length: k }, () => m)),
    ];
    nodes.push(split);
    const next = [z[0]!];
    for (let i = 1; i < k; i++) {
      nodes.push(makeNode(`${id}.sum${i}`, 'Add', [z[i]!, prev[i - 1]!], [`${id}.n${i}`]));
      next.push(`${id}.n${i}`);
    }
    nodes.push(makeNode(`${id}.out`, 'Add', [z[k]!, prev[k - 1]!], [conv!.output[0]!]));
    const cat = makeNode(`${id}.carry`, 'Concat', next, [`${id}_next`]);
    cat.attribute = [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }) as unknown as Attr];
    nodes.push(cat);
    g.node.splice(g.node.indexOf(conv!), 1, ...nodes);
    // The context's Concat and Slice lose their consumers and are pruned with the merge.
    states.splice(states.indexOf(state), 1, { input: id, output: `${id}_next`, shape: [-1, k * m, 1, freq], batchAxis: 0 });
  }
}
