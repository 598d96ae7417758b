// Typed views of decoded ONNX protobuf messages (onnx-proto) and the few helpers the graph
// rewrite needs to read and build them.
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;

export class UnsupportedExportError extends Error {
  override name = 'UnsupportedExportError';
}
// The decoded protobuf messages always carry their repeated fields; these views say so to the type checker.
export interface Tensor {
  name: string;
  dataType: number;
  dims: unknown[];
  rawData?: Uint8Array | null;
  int64Data: unknown[];
  int32Data: number[];
  floatData: number[];
}
export interface Attr {
  name: string;
  i?: unknown;
  s?: Uint8Array | null;
  t?: Tensor | null;
  ints: unknown[];
}
export interface Node {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: Attr[];
}
export interface Dim {
  dimValue?: unknown;
  dimParam?: string | null;
}
export interface ValueInfo {
  name: string;
  type?: { tensorType?: { shape?: { dim: Dim[] } | null } | null } | null;
}
export interface Graph {
  node: Node[];
  initializer: Tensor[];
  input: ValueInfo[];
  output: ValueInfo[];
}
export interface Model {
  irVersion: unknown;
  opsetImport: unknown[];
  graph?: Graph | null;
}


export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

export function attr(node: Node, name: string) {
  return node.attribute.find((a) => a.name === name);
}

export function tensorInts(t: Tensor): number[] {
  if (t.rawData && t.rawData.length > 0) {
    const raw = new Uint8Array(t.rawData);
    if (t.dataType === onnx.TensorProto.DataType.INT64) return Array.from(new BigInt64Array(raw.buffer), Number);
    if (t.dataType === onnx.TensorProto.DataType.INT32) return Array.from(new Int32Array(raw.buffer));
    if (t.dataType === onnx.TensorProto.DataType.FLOAT) return Array.from(new Float32Array(raw.buffer));
  }
  if (t.int64Data.length > 0) return t.int64Data.map(num);
  if (t.int32Data.length > 0) return t.int32Data;
  return t.floatData;
}

export function int64Tensor(name: string, values: bigint[]): Tensor {
  return onnx.TensorProto.create({
    name,
    dataType: onnx.TensorProto.DataType.INT64,
    dims: [values.length],
    rawData: new Uint8Array(BigInt64Array.from(values).buffer),
  }) as unknown as Tensor;
}

export function valueInfo(name: string, dims: (number | string)[] | null): ValueInfo {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        ...(dims ? { shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } : {}),
      },
    },
  }) as unknown as ValueInfo;
}

export function makeNode(name: string, opType: string, input: string[], output: string[]): Node {
  return onnx.NodeProto.create({ name, opType, input, output }) as unknown as Node;
}

export function inputDims(g: Graph, name: string, what: string): number[] {
  const vi = g.input.find((i) => i.name === name);
  if (!vi) throw new UnsupportedExportError(`${what}: "${name}" is not a graph input`);
  return vi.type!.tensorType!.shape!.dim.map((d) => (d.dimParam ? -1 : num(d.dimValue)));
}

/** Values produced by Constant nodes or initializers, and the producing node of every value. */
export function index(g: Graph) {
  const producer = new Map<string, Node>();
  for (const n of g.node) for (const o of n.output) producer.set(o, n);
  const constants = new Map<string, Tensor>();
  for (const t of g.initializer) constants.set(t.name, t);
  for (const n of g.node) if (n.opType === 'Constant' && attr(n, 'value')?.t) constants.set(n.output[0]!, attr(n, 'value')!.t as Tensor);
  return { producer, constants };
}

export function ancestors(start: string, producer: Map<string, Node>): Node[] {
  const seen = new Set<Node>();
  const stack = [start];
  while (stack.length > 0) {
    const n = producer.get(stack.pop()!);
    if (!n || seen.has(n)) continue;
    seen.add(n);
    stack.push(...n.input.filter((i) => i !== ''));
  }
  return [...seen];
}

/** One carried state tensor: fed as `input`, its next value comes out as `output`. */
export interface StateSpec {
  input: string;
  output: string;
  /** Shape with the batch dimension as -1. */
  shape: number[];
  /** Axis of the batch dimension (0 for contexts, 1 for GRU states [1, B, H]). */
  batchAxis: number;
}
