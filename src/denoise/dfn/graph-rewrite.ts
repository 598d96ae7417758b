// Turns the three stateless DeepFilterNet3 ONNX graphs (enc, erb_dec, df_dec) into ONE graph
// that runs hop by hop with its hidden state explicit, so a stream can be processed 10 ms at a
// time with the output of a run over the whole signal (docs/decisions.md, "dfn3 graph rewrite"):
//   - every zero time-Pad in front of a temporal convolution becomes Concat(context, x) on the
//     time axis, with the last k frames sliced off as the next context;
//   - every GRU's initial_h (a zero tensor built inside the export) becomes an input, and its Y_h
//     an output;
//   - enc feeds erb_dec and df_dec inside the graph, so one session.run does a whole hop;
//   - the batch dimension is symbolic, so many streams run as one batch with batch-sized state.
// The patterns relied on are asserted; an export that does not match fails with a clear message.

import type onnxProto from 'onnx-proto';
import { foldBatchIntoTime } from './batch-fold.js';
import { carryConvPartialSums } from './conv-fir.js';
import {
  type Attr,
  type Graph,
  type Model,
  type Node,
  type Tensor,
  ancestors,
  attr,
  index,
  inputDims,
  int64Tensor,
  makeNode,
  num,
  onnx,
  tensorInts,
  type StateSpec,
  UnsupportedExportError,
  valueInfo,
} from './onnx-graph.js';

export { UnsupportedExportError };
export type { StateSpec };


export interface StatefulGraph {
  /** Serialized ONNX model. */
  bytes: Uint8Array;
  states: StateSpec[];
  /** Model inputs besides the states: feat_erb [B,1,1,nb_erb], feat_spec [B,2,1,nb_df] (one hop per run). */
  inputs: { featErb: string; featSpec: string };
  /** Outputs besides the states: lsnr [B,1,1], m [B,1,1,nb_erb], coefs [B,1,nb_df,2·df_order]. */
  outputs: { lsnr: string; m: string; coefs: string };
}

const ALLOWED_OPS = new Set([
  'Constant', 'ConstantOfShape', 'Concat', 'Reshape', 'Slice', 'Transpose', 'Cast', 'Pad', 'Conv',
  'ConvTranspose', 'Relu', 'Shape', 'Gather', 'Unsqueeze', 'Squeeze', 'Einsum', 'Add', 'Mul', 'GRU',
  'MatMul', 'Sigmoid', 'Tanh',
]);
const INT64_MAX = 9_223_372_036_854_775_807n;

interface RewriteResult {
  states: StateSpec[];
  /** Pad output name → frames of context k (for the conv check). */
  contexts: Map<string, number>;
}

/** Rewrites one graph in place; new names are `${tag}.…` so they stay unique after the merge. */
function makeStateful(g: Graph, tag: string, expectPads: number, expectGrus: number): RewriteResult {
  const { producer, constants } = index(g);
  const states: StateSpec[] = [];
  const contexts = new Map<string, number>();
  for (const n of g.node) {
    if (!ALLOWED_OPS.has(n.opType)) throw new UnsupportedExportError(`${tag}: operator ${n.opType} (node ${n.name}) is not part of the DeepFilterNet3 export this rewrite understands`);
  }
  const pads = g.node.filter((n) => n.opType === 'Pad');
  const grus = g.node.filter((n) => n.opType === 'GRU');
  if (pads.length !== expectPads || grus.length !== expectGrus) {
    throw new UnsupportedExportError(`${tag}: expected ${expectPads} Pad and ${expectGrus} GRU nodes, found ${pads.length} and ${grus.length}`);
  }
  pads.forEach((pad, i) => {
    const mode = attr(pad, 'mode')?.s;
    if (mode && Buffer.from(mode).toString() !== 'constant') throw new UnsupportedExportError(`${tag}: Pad ${pad.name} is not a constant pad`);
    const [data, padsIn, valueIn] = pad.input;
    if (valueIn) {
      const v = constants.get(valueIn);
      if (!v || tensorInts(v).some((x) => x !== 0)) throw new UnsupportedExportError(`${tag}: Pad ${pad.name} does not pad with zeros`);
    }
    // torch exports F.pad(x, (f_left, f_right, t_left, t_right)) as this 4-value constant feeding the pads computation.
    const specs = ancestors(padsIn!, producer)
      .filter((n) => n.opType === 'Constant')
      .map((n) => constants.get(n.output[0]!)!)
      .filter((t) => t.dims.length === 1 && num(t.dims[0]) === 4);
    const spec = specs.length === 1 ? tensorInts(specs[0]!) : [];
    if (spec.length !== 4 || spec[0] !== 0 || spec[1] !== 0 || spec[3] !== 0 || !(spec[2]! > 0)) {
      throw new UnsupportedExportError(`${tag}: Pad ${pad.name} is not a zero pad of past frames on the time axis`);
    }
    const k = spec[2]!;
    const dims = inputDims(g, data!, `${tag}: Pad ${pad.name}`);
    if (dims.length !== 4) throw new UnsupportedExportError(`${tag}: Pad ${pad.name} input is not 4-D`);
    const ctxIn = `${tag}.ctx${i}`;
    const ctxOut = `${tag}.ctx${i}_next`;
    const padOut = pad.output[0]!;
    pad.opType = 'Concat';
    pad.input = [ctxIn, data!];
    pad.attribute = [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 2 }) as unknown as Attr];
    g.initializer.push(
      int64Tensor(`${ctxIn}.starts`, [BigInt(-k)]),
      int64Tensor(`${ctxIn}.ends`, [INT64_MAX]),
      int64Tensor(`${ctxIn}.axes`, [2n]),
    );
    g.node.push(makeNode(`${ctxIn}.carry`, 'Slice', [padOut, `${ctxIn}.starts`, `${ctxIn}.ends`, `${ctxIn}.axes`], [ctxOut]));
    contexts.set(padOut, k);
    states.push({ input: ctxIn, output: ctxOut, shape: [-1, dims[1]!, k, dims[3]!], batchAxis: 0 });
  });
  grus.forEach((gru, i) => {
    const dir = attr(gru, 'direction')?.s;
    if (dir && Buffer.from(dir).toString() !== 'forward') throw new UnsupportedExportError(`${tag}: GRU ${gru.name} is not unidirectional`);
    if (num(attr(gru, 'layout')?.i ?? 0) !== 0) throw new UnsupportedExportError(`${tag}: GRU ${gru.name} is not in time-major layout`);
    if (gru.input[4]) throw new UnsupportedExportError(`${tag}: GRU ${gru.name} uses sequence_lens`);
    const hidden = num(attr(gru, 'hidden_size')?.i ?? 0);
    const h0 = gru.input[5];
    const zeros = h0 ? ancestors(h0, producer).find((n) => n.opType === 'ConstantOfShape') : undefined;
    const fill = zeros && attr(zeros, 'value')?.t;
    if (!zeros || (fill && tensorInts(fill as Tensor).some((x) => x !== 0)) || hidden <= 0) {
      throw new UnsupportedExportError(`${tag}: GRU ${gru.name} does not start from a zero state built in the graph`);
    }
    const hIn = `${tag}.h${i}`;
    const hOut = `${tag}.h${i}_next`;
    while (gru.input.length < 6) gru.input.push('');
    gru.input[5] = hIn;
    while (gru.output.length < 2) gru.output.push('');
    const yh = gru.output[1] || hOut;
    gru.output[1] = yh;
    // Identity gives the state output a stable name without renaming the GRU's own output.
    g.node.push(makeNode(`${hIn}.carry`, 'Identity', [yh], [hOut]));
    states.push({ input: hIn, output: hOut, shape: [1, -1, hidden], batchAxis: 1 });
  });
  // No other node may mix time steps: convolutions span one frame in time unless fed by a context.
  for (const n of g.node) {
    if (n.opType !== 'Conv' && n.opType !== 'ConvTranspose') continue;
    let kernel = attr(n, 'kernel_shape')?.ints.map(num);
    if (!kernel) {
      const w = constants.get(n.input[1]!);
      kernel = w ? w.dims.slice(2).map(num) : undefined;
    }
    if (!kernel || kernel.length !== 2) throw new UnsupportedExportError(`${tag}: ${n.opType} ${n.name} is not a 2-D convolution with a known kernel`);
    const kt = kernel[0]!;
    const ctx = contexts.get(n.input[0]!);
    const ok = ctx === undefined ? kt === 1 : kt === ctx + 1;
    const strideT = num(attr(n, 'strides')?.ints[0] ?? 1);
    const dilT = num(attr(n, 'dilations')?.ints[0] ?? 1);
    const padT = attr(n, 'pads')?.ints.map(num) ?? [0, 0, 0, 0];
    if (!ok || strideT !== 1 || dilT !== 1 || padT[0] !== 0 || padT[2] !== 0) {
      throw new UnsupportedExportError(`${tag}: ${n.opType} ${n.name} mixes time steps in a way the rewrite does not carry`);
    }
  }
  return { states, contexts };
}

/** Prefixes every internal name; `keep` names pass unchanged, `map` renames graph inputs. */
function prefixNames(g: Graph, prefix: string, keep: Set<string>, map: Map<string, string>): void {
  const rename = (name: string): string => {
    if (name === '') return name;
    if (map.has(name)) return map.get(name)!;
    if (keep.has(name)) return name;
    return prefix + name;
  };
  for (const n of g.node) {
    n.name = prefix + n.name;
    n.input = n.input.map(rename);
    n.output = n.output.map(rename);
  }
  for (const t of g.initializer) t.name = rename(t.name);
}

function prune(g: Graph, outputs: string[]): Node[] {
  const producer = new Map<string, Node>();
  for (const n of g.node) for (const o of n.output) producer.set(o, n);
  const live = new Set<Node>();
  const stack = [...outputs];
  while (stack.length > 0) {
    const n = producer.get(stack.pop()!);
    if (!n || live.has(n)) continue;
    live.add(n);
    stack.push(...n.input.filter((i) => i !== ''));
  }
  return g.node.filter((n) => live.has(n));
}

function decode(bytes: Uint8Array, what: string): Model {
  try {
    const m = onnx.ModelProto.decode(bytes) as unknown as Model;
    if (!m.graph) throw new Error('no graph');
    return m;
  } catch (e) {
    throw new UnsupportedExportError(`${what}: not a readable ONNX model (${(e as Error).message})`);
  }
}

function expectIo(g: Graph, what: string, inputs: string[], outputs: string[]): void {
  const ins = g.input.map((i) => i.name);
  const outs = g.output.map((o) => o.name);
  for (const i of inputs) if (!ins.includes(i)) throw new UnsupportedExportError(`${what}: missing input "${i}" (has ${ins.join(', ')})`);
  for (const o of outputs) if (!outs.includes(o)) throw new UnsupportedExportError(`${what}: missing output "${o}" (has ${outs.join(', ')})`);
}

/** Builds the merged stateful graph from the bytes of enc.onnx, erb_dec.onnx and df_dec.onnx. */
export function buildStatefulGraph(
  encBytes: Uint8Array,
  erbDecBytes: Uint8Array,
  dfDecBytes: Uint8Array,
  opts: { foldBatch?: boolean; partialSums?: boolean; einsumAsMatMul?: boolean } = {},
): StatefulGraph {
  const enc = decode(encBytes, 'enc.onnx');
  const erb = decode(erbDecBytes, 'erb_dec.onnx');
  const df = decode(dfDecBytes, 'df_dec.onnx');
  const encOuts = ['e0', 'e1', 'e2', 'e3', 'emb', 'c0', 'lsnr'];
  expectIo(enc.graph!, 'enc.onnx', ['feat_erb', 'feat_spec'], encOuts);
  expectIo(erb.graph!, 'erb_dec.onnx', ['emb', 'e3', 'e2', 'e1', 'e0'], ['m']);
  expectIo(df.graph!, 'df_dec.onnx', ['emb', 'c0'], ['coefs']);
  const featErbDims = inputDims(enc.graph!, 'feat_erb', 'enc.onnx');
  const featSpecDims = inputDims(enc.graph!, 'feat_spec', 'enc.onnx');

  const encR = makeStateful(enc.graph!, 'enc', 2, 1);
  const erbR = makeStateful(erb.graph!, 'erb_dec', 0, 2);
  const dfR = makeStateful(df.graph!, 'df_dec', 1, 2);
  const internal = new Set<string>();
  const parts = [
    [enc.graph!, 'enc', encR],
    [erb.graph!, 'erb_dec', erbR],
    [df.graph!, 'df_dec', dfR],
  ] as const;
  for (const [gr, tag, r] of parts) {
    if (opts.partialSums ?? true) carryConvPartialSums(gr, tag, r.contexts, r.states);
    if (opts.foldBatch ?? true) foldBatchIntoTime(gr, tag, { einsumAsMatMul: opts.einsumAsMatMul, oneHop: opts.partialSums ?? true });
    for (const nd of gr.node) for (const o of [...nd.input, ...nd.output]) if (o.startsWith(`${tag}.fold`) || o.startsWith(`${tag}.fir`)) internal.add(o);
  }
  const states = [...encR.states, ...erbR.states, ...dfR.states];
  const stateNames = new Set([...internal, ...states.flatMap((s) => [s.input, s.output, `${s.input}.starts`, `${s.input}.ends`, `${s.input}.axes`])]);

  prefixNames(enc.graph!, 'enc/', new Set([...stateNames, 'feat_erb', 'feat_spec', 'lsnr']), new Map());
  const fromEnc = new Map(encOuts.filter((o) => o !== 'lsnr').map((o) => [o, `enc/${o}`]));
  prefixNames(erb.graph!, 'erb_dec/', new Set([...stateNames, 'm']), fromEnc);
  prefixNames(df.graph!, 'df_dec/', new Set([...stateNames, 'coefs']), fromEnc);

  const outputs = ['lsnr', 'm', 'coefs', ...states.map((s) => s.output)];
  const hop: number | string = (opts.partialSums ?? true) ? 1 : 'S';
  const merged = {
    name: 'deepfilternet3_stateful',
    node: [...enc.graph!.node, ...erb.graph!.node, ...df.graph!.node],
    initializer: [...enc.graph!.initializer, ...erb.graph!.initializer, ...df.graph!.initializer],
    input: [
      // Partial sums carry exactly one hop per run: S is pinned to 1 so a longer feed fails loudly.
      valueInfo('feat_erb', ['B', featErbDims[1]!, hop, featErbDims[3]!]),
      valueInfo('feat_spec', ['B', featSpecDims[1]!, hop, featSpecDims[3]!]),
      ...states.map((s) => valueInfo(s.input, s.shape.map((d) => (d === -1 ? 'B' : d)))),
    ],
    output: outputs.map((o) => valueInfo(o, null)),
  };
  merged.node = prune(merged, outputs);
  const used = new Set(merged.node.flatMap((n) => n.input));
  merged.initializer = merged.initializer.filter((t) => used.has(t.name));
  const model = onnx.ModelProto.create({
    irVersion: enc.irVersion as number,
    opsetImport: enc.opsetImport as onnxProto.onnx.IOperatorSetIdProto[],
    producerName: 'hushcast graph-rewrite',
    graph: merged as unknown as onnxProto.onnx.IGraphProto,
  });
  return {
    bytes: onnx.ModelProto.encode(model).finish(),
    states,
    inputs: { featErb: 'feat_erb', featSpec: 'feat_spec' },
    outputs: { lsnr: 'lsnr', m: 'm', coefs: 'coefs' },
  };
}
