import { type Attr, type Graph, type Node, attr, index, int64Tensor, makeNode, num, onnx } from './onnx-graph.js';

/**
 * Speed, not semantics: with S = 1 and many streams, onnxruntime runs ConvTranspose once per batch
 * item and Einsum per (b, t) pair, ~13× and ~2× slower per frame than over time. Both ops here
 * treat frames independently (time kernel 1, asserted by the rewrite), so the batch is folded into the
 * time axis around them: [B, C, S, F] → [1, C, B·S, F] for ConvTranspose, [b, t, g, i] →
 * [1, b·t, g, i] for the grouped-linear Einsum, and back afterwards.
 */
export function foldBatchIntoTime(g: Graph, tag: string, opts: { einsumAsMatMul?: boolean; oneHop?: boolean } = {}): void {
  const asMatMul = opts.einsumAsMatMul ?? true;
  // With one hop per run (S = 1) the unfolded shapes are constants: no Shape/Gather/Concat per fold.
  const oneHop = opts.oneHop ?? false;
  const { constants } = index(g);
  const out: Node[] = [];
  let n = 0;
  const name = (what: string) => `${tag}.fold${n}.${what}`;
  const i64 = (what: string, values: bigint[]) => {
    g.initializer.push(int64Tensor(name(what), values));
    return name(what);
  };
  for (const node of g.node) {
    const w = constants.get(node.input[1] ?? '');
    // (Folding the plain Convs too was measured: no gain, the transposes eat it.)
    if (node.opType === 'ConvTranspose' && w && w.dims.length === 4 && num(w.dims[2]) === 1) {
      n++;
      const [x] = node.input;
      const y = node.output[0]!;
      const cIn = num(w.dims[0]);
      const cOut = num(w.dims[1]) * num(attr(node, 'group')?.i ?? 1);
      const perm = (nm: string, i: string, o: string) => {
        const t = makeNode(nm, 'Transpose', [i], [o]);
        t.attribute = [onnx.AttributeProto.create({ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 0, 2, 3] }) as unknown as Attr];
        return t;
      };
      out.push(
        perm(name('t_in'), x!, name('cbsf')),
        makeNode(name('fold'), 'Reshape', [name('cbsf'), i64('fold_shape', [1n, BigInt(cIn), -1n, 0n])], [name('x1')]),
      );
      node.input[0] = name('x1');
      node.output[0] = name('y1');
      out.push(node);
      if (oneHop) {
        out.push(
          makeNode(name('unfold'), 'Reshape', [name('y1'), i64('unfold_shape', [BigInt(cOut), -1n, 1n, 0n])], [name('cbsf_out')]),
          perm(name('t_out'), name('cbsf_out'), y),
        );
        continue;
      }
      out.push(
        makeNode(name('shape'), 'Shape', [x!], [name('shp')]),
        makeNode(name('bs'), 'Gather', [name('shp'), i64('bs_idx', [0n, 2n])], [name('bs_dims')]),
        makeNode(name('unfold_shape'), 'Concat', [i64('c_out', [BigInt(cOut)]), name('bs_dims'), i64('f_copy', [0n])], [name('unfold_dims')]),
        makeNode(name('unfold'), 'Reshape', [name('y1'), name('unfold_dims')], [name('cbsf_out')]),
        perm(name('t_out'), name('cbsf_out'), y),
      );
      out[out.length - 3]!.attribute = [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }) as unknown as Attr];
      continue;
    }
    const eq = attr(node, 'equation')?.s;
    if (node.opType === 'Einsum' && eq && Buffer.from(eq).toString().replace(/\s/g, '') === 'btgi,gih->btgh' && w && w.dims.length === 3) {
      n++;
      const [x] = node.input;
      const y = node.output[0]!;
      const [gr, inF, outF] = w.dims.map(num) as [number, number, number];
      if (asMatMul) {
        // onnxruntime's Einsum spends ~10x the GEMM time on this equation at 32 streams; the same
        // contraction as [g, bt, i] x [g, i, h] is one batched MatMul between two cheap Transposes.
        const perm = (nm: string, i: string, o: string) => {
          const t = makeNode(nm, 'Transpose', [i], [o]);
          t.attribute = [onnx.AttributeProto.create({ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 0, 2] }) as unknown as Attr];
          return t;
        };
        out.push(
          makeNode(name('fold'), 'Reshape', [x!, i64('fold_shape', [-1n, BigInt(gr), BigInt(inF)])], [name('x1')]),
          perm(name('t_in'), name('x1'), name('gbi')),
          makeNode(name('matmul'), 'MatMul', [name('gbi'), node.input[1]!], [name('gbh')]),
          perm(name('t_out'), name('gbh'), name('y1')),
        );
      } else {
        out.push(makeNode(name('fold'), 'Reshape', [x!, i64('fold_shape', [1n, -1n, BigInt(gr), BigInt(inF)])], [name('x1')]));
        node.input[0] = name('x1');
        node.output[0] = name('y1');
        out.push(node);
      }
      if (oneHop) {
        out.push(makeNode(name('unfold'), 'Reshape', [name('y1'), i64('unfold_shape', [-1n, 1n, BigInt(gr), BigInt(outF)])], [y]));
        continue;
      }
      out.push(
        makeNode(name('shape'), 'Shape', [x!], [name('shp')]),
        makeNode(name('bt'), 'Slice', [name('shp'), i64('bt_start', [0n]), i64('bt_end', [2n])], [name('bt_dims')]),
        makeNode(name('unfold_shape'), 'Concat', [name('bt_dims'), i64('gh', [BigInt(gr), BigInt(outF)])], [name('unfold_dims')]),
        makeNode(name('unfold'), 'Reshape', [name('y1'), name('unfold_dims')], [y]),
      );
      out[out.length - 2]!.attribute = [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }) as unknown as Attr];
      continue;
    }
    out.push(node);
  }
  g.node = out;
}
