import { ProtoWriter } from './protobuf-writer.js';

/*
 * Builders for the handful of ONNX messages a static inference graph needs. Field numbers are those
 * of onnx/onnx.proto; only the fields this package writes are listed.
 */

const MODEL = { irVersion: 1, producerName: 2, producerVersion: 3, graph: 7, opsetImport: 8 } as const;
const OPSET_ID = { domain: 1, version: 2 } as const;
const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12 } as const;
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5 } as const;
const ATTRIBUTE = { name: 1, f: 2, i: 3, t: 5, ints: 8, type: 20 } as const;
const ATTRIBUTE_TYPE = { float: 1, int: 2, tensor: 4, ints: 7 } as const;
const TENSOR = { dims: 1, dataType: 2, name: 8, rawData: 9 } as const;
const VALUE_INFO = { name: 1, type: 2 } as const;
const TYPE = { tensorType: 1 } as const;
const TYPE_TENSOR = { elemType: 1, shape: 2 } as const;
const SHAPE = { dim: 1 } as const;
const DIMENSION = { dimValue: 1, dimParam: 2 } as const;

/** TensorProto.DataType values. */
const DATA_TYPE = { float: 1, uint8: 2, int8: 3, int64: 7 } as const;
export type DataTypeName = keyof typeof DATA_TYPE;

export interface TensorSpec {
  name: string;
  dataType: DataTypeName;
  dims: readonly number[];
  /** Little-endian element bytes, as ONNX's raw_data requires. */
  rawData: Uint8Array;
}

export type AttributeSpec =
  | { name: string; kind: 'float'; value: number }
  | { name: string; kind: 'int'; value: number }
  | { name: string; kind: 'ints'; value: readonly number[] }
  | { name: string; kind: 'tensor'; value: TensorSpec };

export interface NodeSpec {
  name: string;
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes: readonly AttributeSpec[];
}

export interface ValueInfoSpec {
  name: string;
  elemType: DataTypeName;
  /** Numbers are fixed sizes, strings symbolic dimensions such as 'batch_size'. */
  shape: readonly (number | string)[];
}

export interface GraphSpec {
  name: string;
  nodes: readonly NodeSpec[];
  initializers: readonly TensorSpec[];
  inputs: readonly ValueInfoSpec[];
  outputs: readonly ValueInfoSpec[];
}

export interface ModelSpec {
  irVersion: number;
  /** Version of the default ("ai.onnx") operator set. */
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  graph: GraphSpec;
}

export function encodeModel(model: ModelSpec): ProtoWriter {
  const opset = new ProtoWriter().string(OPSET_ID.domain, '').varint(OPSET_ID.version, model.opsetVersion);
  return new ProtoWriter()
    .varint(MODEL.irVersion, model.irVersion)
    .string(MODEL.producerName, model.producerName)
    .string(MODEL.producerVersion, model.producerVersion)
    .message(MODEL.graph, encodeGraph(model.graph))
    .message(MODEL.opsetImport, opset);
}

function encodeGraph(graph: GraphSpec): ProtoWriter {
  const writer = new ProtoWriter();
  for (const node of graph.nodes) writer.message(GRAPH.node, encodeNode(node));
  writer.string(GRAPH.name, graph.name);
  for (const tensor of graph.initializers) writer.message(GRAPH.initializer, encodeTensor(tensor));
  for (const input of graph.inputs) writer.message(GRAPH.input, encodeValueInfo(input));
  for (const output of graph.outputs) writer.message(GRAPH.output, encodeValueInfo(output));
  return writer;
}

export function encodeNode(node: NodeSpec): ProtoWriter {
  const writer = new ProtoWriter();
  for (const input of node.inputs) writer.string(NODE.input, input);
  for (const output of node.outputs) writer.string(NODE.output, output);
  writer.string(NODE.name, node.name).string(NODE.opType, node.opType);
  for (const attribute of node.attributes) writer.message(NODE.attribute, encodeAttribute(attribute));
  return writer;
}

function encodeAttribute(attribute: AttributeSpec): ProtoWriter {
  const writer = new ProtoWriter().string(ATTRIBUTE.name, attribute.name);
  switch (attribute.kind) {
    case 'float':
      writer.float(ATTRIBUTE.f, attribute.value);
      break;
    case 'int':
      writer.varint(ATTRIBUTE.i, attribute.value);
      break;
    case 'ints':
      writer.packedVarints(ATTRIBUTE.ints, attribute.value);
      break;
    case 'tensor':
      writer.message(ATTRIBUTE.t, encodeTensor(attribute.value));
      break;
  }
  return writer.varint(ATTRIBUTE.type, ATTRIBUTE_TYPE[attribute.kind]);
}

export function encodeTensor(tensor: TensorSpec): ProtoWriter {
  const writer = new ProtoWriter();
  // A scalar has no dims; an empty packed field would still be valid but is noise.
  if (tensor.dims.length > 0) writer.packedVarints(TENSOR.dims, tensor.dims);
  return writer
    .varint(TENSOR.dataType, DATA_TYPE[tensor.dataType])
    .string(TENSOR.name, tensor.name)
    .bytes(TENSOR.rawData, tensor.rawData);
}

function encodeValueInfo(info: ValueInfoSpec): ProtoWriter {
  const shape = new ProtoWriter();
  for (const dim of info.shape) {
    const dimension = new ProtoWriter();
    if (typeof dim === 'number') dimension.varint(DIMENSION.dimValue, dim);
    else dimension.string(DIMENSION.dimParam, dim);
    shape.message(SHAPE.dim, dimension);
  }
  const tensorType = new ProtoWriter()
    .varint(TYPE_TENSOR.elemType, DATA_TYPE[info.elemType])
    .message(TYPE_TENSOR.shape, shape);
  const type = new ProtoWriter().message(TYPE.tensorType, tensorType);
  return new ProtoWriter().string(VALUE_INFO.name, info.name).message(VALUE_INFO.type, type);
}
