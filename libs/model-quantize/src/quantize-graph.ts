import { encodeNode, encodeTensor, ProtoWriter, type NodeSpec, type TensorSpec } from '@rerank-pool/model-synth';
import { QuantizeError } from './errors.js';
import { floatValues, FLOAT_TYPE, GRAPH_FIELD, MODEL_FIELD, type OnnxGraph, type OnnxInitializer, type OnnxModel, type OnnxNode } from './onnx-model.js';
import type { WeightFormat } from './weight-format.js';
import { quantizeWeight, transpose } from './weight-quantization.js';

/** DynamicQuantizeLinear exists from opset 11 on (MatMulInteger from 10). */
export const MIN_OPSET = 11;
/**
 * Default-domain ops whose inputs or attributes changed incompatibly at the given opset before 11:
 * raising an older graph's opset to 11 would change what they mean, so such a graph is refused.
 */
const CHANGED_BEFORE_MIN_OPSET: Readonly<Record<string, number>> = { Slice: 10, TopK: 10, Upsample: 10, Clip: 11, Pad: 11, Resize: 11 };
const CAST_TO_FLOAT = 1;

export interface GraphQuantizeOptions {
  format: WeightFormat;
  onNode?: (done: number, total: number, name: string) => void;
}

export interface QuantizedGraph {
  /** The rewritten ModelProto. */
  model: ProtoWriter;
  quantizedNodes: number;
  /** MatMul/Gemm nodes whose weight stayed float32, with why. */
  skipped: { node: string; reason: string }[];
  /** Initializer elements before and after, quantization parameters (scales, zero points) excluded. */
  parameters: number;
  /** The default-domain opset, when it had to be raised for the new ops. */
  opsetRaised?: { from: number; to: number };
}

interface Candidate {
  node: OnnxNode;
  weight: OnnxInitializer;
  /** Gemm with transB = 1 stores its weight as [N, K]. */
  transposed: boolean;
  bias?: string;
}

const elements = (dims: readonly number[]): number => dims.reduce((size, dim) => size * dim, 1);
const bytesOf = (array: ArrayBufferView): Uint8Array => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);

function intAttribute(node: OnnxNode, name: string, fallback: number): number {
  return node.attributes.get(name)?.int ?? fallback;
}

function floatAttribute(node: OnnxNode, name: string, fallback: number): number {
  return node.attributes.get(name)?.float ?? fallback;
}

/**
 * Why `node` cannot take a quantized weight, or its weight and layout when it can; undefined for a
 * product of two activations (attention's Q·Kᵀ), which has no weight at all.
 */
function inspect(node: OnnxNode, graph: OnnxGraph, initializers: Map<string, OnnxInitializer>, uses: Map<string, number>, inSubgraph: (name: string) => boolean): Candidate | string | undefined {
  const weight = initializers.get(node.inputs[1] ?? '');
  if (!weight) return undefined;
  if (initializers.has(node.inputs[0] ?? '')) return 'both inputs are constants';
  if (weight.dataType !== FLOAT_TYPE) return 'its weight is not float32';
  if (weight.dims.length !== 2) return `its weight is ${weight.dims.length}-D, not 2-D`;
  if (weight.external) return 'its weight is stored in an external file';
  if (graph.inputNames.has(weight.name)) return 'its weight is also a graph input (may be overridden at run time)';
  if ((uses.get(weight.name) ?? 0) > 1 || inSubgraph(weight.name)) return 'its weight is used by several nodes';
  if (node.opType === 'MatMul') return { node, weight, transposed: false };
  if (intAttribute(node, 'transA', 0) !== 0) return 'Gemm with transA';
  if (floatAttribute(node, 'alpha', 1) !== 1) return 'Gemm with alpha != 1';
  const bias = node.inputs[2] || undefined;
  if (bias !== undefined && floatAttribute(node, 'beta', 1) !== 1) return 'Gemm with beta != 1';
  return { node, weight, transposed: intAttribute(node, 'transB', 0) === 1, bias };
}

function refuseIncompatibleOps(graph: OnnxGraph, version: number): void {
  const changed = [...new Set(graph.nodes.map((node) => node.opType))].filter((op) => (CHANGED_BEFORE_MIN_OPSET[op] ?? 0) > version);
  if (changed.length === 0) return;
  throw new QuantizeError(
    'QUANTIZE_ONNX_UNSUPPORTED',
    `the graph is opset ${version}; quantizing needs opset ${MIN_OPSET} (DynamicQuantizeLinear), where ${changed.join(', ')} take different inputs or attributes. ` +
      `Re-export the model with opset ${MIN_OPSET} or later`,
  );
}

/**
 * Rewrites every MatMul/Gemm with a float32 2-D weight into DynamicQuantizeLinear -> MatMulInteger
 * -> Cast -> Mul(activation scale x weight scale) [-> Add bias], the pattern onnxruntime fuses into
 * MatMulIntegerToFloat at load time. Everything else is copied through as read.
 */
export function quantizeGraph(model: OnnxModel, options: GraphQuantizeOptions): QuantizedGraph {
  const { graph } = model;
  const initializers = new Map(graph.initializers.map((tensor) => [tensor.name, tensor]));
  const uses = new Map<string, number>();
  const taken = new Set<string>([...initializers.keys(), ...graph.inputNames]);
  for (const node of graph.nodes) {
    for (const input of node.inputs) uses.set(input, (uses.get(input) ?? 0) + 1);
    for (const name of [...node.outputs, node.name]) taken.add(name);
  }
  // Subgraphs may capture outer-scope weights by name; their bytes are searched rather than parsed.
  const subgraphs = graph.nodes.flatMap((node) => [...node.attributes.values()].flatMap((attribute) => attribute.subgraphs));
  const inSubgraph = (name: string): boolean => subgraphs.some((bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(name));
  const unique = (name: string): string => {
    let candidate = name;
    for (let n = 1; taken.has(candidate); n++) candidate = `${name}_${n}`;
    taken.add(candidate);
    return candidate;
  };

  const candidates: Candidate[] = [];
  const skipped: QuantizedGraph['skipped'] = [];
  for (const node of graph.nodes) {
    if ((node.opType !== 'MatMul' && node.opType !== 'Gemm') || (node.domain !== '' && node.domain !== 'ai.onnx')) continue;
    const result = inspect(node, graph, initializers, uses, inSubgraph);
    if (typeof result === 'string') skipped.push({ node: node.name, reason: result });
    else if (result) candidates.push(result);
  }

  const defaultOpset = model.opsets.find((opset) => opset.domain === '' || opset.domain === 'ai.onnx');
  const bump = candidates.length > 0 && (!defaultOpset || defaultOpset.version < MIN_OPSET);
  if (bump) refuseIncompatibleOps(graph, defaultOpset?.version ?? 0);

  const replacements = new Map<number, NodeSpec[]>();
  const newTensors = new Map<number, TensorSpec[]>();
  const quantizedActivations = new Map<string, { value: string; scale: string; zeroPoint: string }>();
  candidates.forEach((candidate, index) => {
    const { node, weight } = candidate;
    const nodes: NodeSpec[] = [];
    const input = node.inputs[0]!;
    const output = node.outputs[0]!;
    // Node names are optional in ONNX; the output name is not.
    const base = node.name || output;
    // One DynamicQuantizeLinear per activation, shared by the MatMuls reading it (Q, K and V do).
    let activation = quantizedActivations.get(input);
    if (!activation) {
      activation = { value: unique(`${input}_quantized`), scale: unique(`${input}_scale`), zeroPoint: unique(`${input}_zero_point`) };
      quantizedActivations.set(input, activation);
      nodes.push({
        name: unique(`${base}_DynamicQuantizeLinear`),
        opType: 'DynamicQuantizeLinear',
        inputs: [input],
        outputs: [activation.value, activation.scale, activation.zeroPoint],
        attributes: [],
      });
    }

    const [rows, cols] = candidate.transposed ? [weight.dims[1]!, weight.dims[0]!] : [weight.dims[0]!, weight.dims[1]!];
    const values = candidate.transposed ? transpose(floatValues(weight), weight.dims[0]!, weight.dims[1]!) : floatValues(weight);
    const quantized = quantizeWeight(values, rows, cols, options.format);
    const elemType = options.format.type === 'uint8' ? 'uint8' : 'int8';
    const channelDims = options.format.perChannel ? [cols] : [];
    const tensors: TensorSpec[] = [
      { name: unique(`${weight.name}_quantized`), dataType: elemType, dims: [rows, cols], rawData: bytesOf(quantized.values) },
      { name: unique(`${weight.name}_scale`), dataType: 'float', dims: channelDims, rawData: bytesOf(quantized.scales) },
      { name: unique(`${weight.name}_zero_point`), dataType: elemType, dims: channelDims, rawData: bytesOf(quantized.zeroPoints) },
    ];
    const [weightValue, weightScale, weightZeroPoint] = tensors.map((tensor) => tensor.name) as [string, string, string];
    newTensors.set(weight.fieldIndex, tensors);

    const integer = unique(`${output}_MatMulInteger`);
    const asFloat = unique(`${output}_cast`);
    const scale = unique(`${output}_scale`);
    const scaled = candidate.bias ? unique(`${output}_scaled`) : output;
    nodes.push(
      { name: unique(`${base}_MatMulInteger`), opType: 'MatMulInteger', inputs: [activation.value, weightValue, activation.zeroPoint, weightZeroPoint], outputs: [integer], attributes: [] },
      { name: unique(`${base}_Cast`), opType: 'Cast', inputs: [integer], outputs: [asFloat], attributes: [{ name: 'to', kind: 'int', value: CAST_TO_FLOAT }] },
      { name: unique(`${base}_scale_Mul`), opType: 'Mul', inputs: [activation.scale, weightScale], outputs: [scale], attributes: [] },
      { name: unique(`${base}_Mul`), opType: 'Mul', inputs: [asFloat, scale], outputs: [scaled], attributes: [] },
    );
    if (candidate.bias) {
      nodes.push({ name: unique(`${base}_bias_Add`), opType: 'Add', inputs: [scaled, candidate.bias], outputs: [output], attributes: [] });
    }
    replacements.set(node.fieldIndex, nodes);
    options.onNode?.(index + 1, candidates.length, node.name);
  });

  const graphWriter = new ProtoWriter();
  graph.fields.forEach((field, index) => {
    const nodes = replacements.get(index);
    const tensors = newTensors.get(index);
    if (nodes) for (const spec of nodes) graphWriter.message(GRAPH_FIELD.node, encodeNode(spec));
    else if (tensors) for (const tensor of tensors) graphWriter.message(GRAPH_FIELD.initializer, encodeTensor(tensor));
    else graphWriter.raw(field.encoded);
  });

  const opsetField = (domain: string): ProtoWriter => new ProtoWriter().string(1, domain).varint(2, MIN_OPSET);
  const modelWriter = new ProtoWriter();
  model.fields.forEach((field, index) => {
    if (index === model.graphFieldIndex) modelWriter.message(MODEL_FIELD.graph, graphWriter);
    else if (bump && defaultOpset && index === defaultOpset.fieldIndex) modelWriter.message(MODEL_FIELD.opsetImport, opsetField(defaultOpset.domain));
    else modelWriter.raw(field.encoded);
  });
  if (bump && !defaultOpset) modelWriter.message(MODEL_FIELD.opsetImport, opsetField(''));

  return {
    model: modelWriter,
    quantizedNodes: candidates.length,
    skipped,
    parameters: graph.initializers.reduce((sum, tensor) => sum + elements(tensor.dims), 0),
    opsetRaised: bump ? { from: defaultOpset?.version ?? 0, to: MIN_OPSET } : undefined,
  };
}
