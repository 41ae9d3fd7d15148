import { QuantizeError } from './errors.js';
import { readFields, readFloat32, readRepeatedVarints, readString, WIRE, type ProtoField } from './protobuf-reader.js';

/*
 * A read-only view of an ONNX ModelProto: just the parts quantization looks at, each with the raw
 * field it came from, so everything else (attributes, metadata, doc strings, value_info, other
 * domains' opsets) is written back byte for byte. Field numbers are those of onnx/onnx.proto.
 */

export const MODEL_FIELD = { irVersion: 1, graph: 7, opsetImport: 8 } as const;
export const GRAPH_FIELD = { node: 1, initializer: 5, input: 11 } as const;
const OPSET_FIELD = { domain: 1, version: 2 } as const;
const NODE_FIELD = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
const ATTRIBUTE_FIELD = { name: 1, f: 2, i: 3, g: 6, graphs: 11 } as const;
const TENSOR_FIELD = { dims: 1, dataType: 2, floatData: 4, name: 8, rawData: 9, dataLocation: 14 } as const;
const VALUE_INFO_FIELD = { name: 1 } as const;

/** TensorProto.DataType.FLOAT. */
export const FLOAT_TYPE = 1;
const DATA_LOCATION_EXTERNAL = 1;

export interface OnnxAttribute {
  name: string;
  /** The `f` field, if present. */
  float?: number;
  /** The `i` field, if present. */
  int?: number;
  /** The encoded subgraphs (If, Loop, Scan bodies) the attribute holds, if any. */
  subgraphs: Uint8Array[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
  /** Index of this node's field in OnnxGraph.fields. */
  fieldIndex: number;
}

export interface OnnxInitializer {
  name: string;
  dataType: number;
  dims: number[];
  /** True when the values live in a separate file (models over 2 GB); such weights are left alone. */
  external: boolean;
  fieldIndex: number;
  /** The tensor's own fields, to read its values on demand. */
  fields: ProtoField[];
}

export interface OnnxGraph {
  fields: ProtoField[];
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  /** Names of graph inputs: an initializer listed here may be overridden at run time. */
  inputNames: Set<string>;
}

export interface OnnxOpset {
  domain: string;
  version: number;
  fieldIndex: number;
}

export interface OnnxModel {
  fields: ProtoField[];
  graph: OnnxGraph;
  graphFieldIndex: number;
  opsets: OnnxOpset[];
}

function fieldsOrThrow(bytes: Uint8Array, what: string): ProtoField[] {
  try {
    return readFields(bytes);
  } catch (error) {
    if (error instanceof QuantizeError) {
      throw new QuantizeError(error.code, `${error.message} (in ${what})`, { cause: error });
    }
    throw error;
  }
}

function stringsOf(fields: readonly ProtoField[], field: number): string[] {
  return fields.filter((entry) => entry.field === field && entry.wireType === WIRE.lengthDelimited).map((entry) => readString(entry.payload));
}

function firstString(fields: readonly ProtoField[], field: number): string {
  return stringsOf(fields, field)[0] ?? '';
}

function firstVarint(fields: readonly ProtoField[], field: number): number | undefined {
  return fields.find((entry) => entry.field === field && entry.wireType === WIRE.varint)?.varint;
}

function readAttribute(payload: Uint8Array): OnnxAttribute {
  const fields = fieldsOrThrow(payload, 'a node attribute');
  const float = fields.find((entry) => entry.field === ATTRIBUTE_FIELD.f && entry.wireType === WIRE.fixed32);
  return {
    name: firstString(fields, ATTRIBUTE_FIELD.name),
    float: float ? readFloat32(float.payload) : undefined,
    int: firstVarint(fields, ATTRIBUTE_FIELD.i),
    subgraphs: fields
      .filter((entry) => entry.field === ATTRIBUTE_FIELD.g || entry.field === ATTRIBUTE_FIELD.graphs)
      .map((entry) => entry.payload),
  };
}

function readNode(payload: Uint8Array, fieldIndex: number): OnnxNode {
  const fields = fieldsOrThrow(payload, 'a graph node');
  const attributes = new Map<string, OnnxAttribute>();
  for (const entry of fields) {
    if (entry.field !== NODE_FIELD.attribute) continue;
    const attribute = readAttribute(entry.payload);
    attributes.set(attribute.name, attribute);
  }
  return {
    name: firstString(fields, NODE_FIELD.name),
    opType: firstString(fields, NODE_FIELD.opType),
    domain: firstString(fields, NODE_FIELD.domain),
    inputs: stringsOf(fields, NODE_FIELD.input),
    outputs: stringsOf(fields, NODE_FIELD.output),
    attributes,
    fieldIndex,
  };
}

function readInitializer(payload: Uint8Array, fieldIndex: number): OnnxInitializer {
  const fields = fieldsOrThrow(payload, 'a graph initializer');
  return {
    name: firstString(fields, TENSOR_FIELD.name),
    dataType: firstVarint(fields, TENSOR_FIELD.dataType) ?? 0,
    dims: readRepeatedVarints(fields, TENSOR_FIELD.dims),
    external: firstVarint(fields, TENSOR_FIELD.dataLocation) === DATA_LOCATION_EXTERNAL,
    fieldIndex,
    fields,
  };
}

function readGraph(payload: Uint8Array): OnnxGraph {
  const fields = fieldsOrThrow(payload, 'the graph');
  const graph: OnnxGraph = { fields, nodes: [], initializers: [], inputNames: new Set() };
  fields.forEach((entry, index) => {
    if (entry.field === GRAPH_FIELD.node) graph.nodes.push(readNode(entry.payload, index));
    else if (entry.field === GRAPH_FIELD.initializer) graph.initializers.push(readInitializer(entry.payload, index));
    else if (entry.field === GRAPH_FIELD.input) {
      graph.inputNames.add(firstString(fieldsOrThrow(entry.payload, 'a graph input'), VALUE_INFO_FIELD.name));
    }
  });
  return graph;
}

export function readOnnxModel(bytes: Uint8Array, source: string): OnnxModel {
  const fields = fieldsOrThrow(bytes, source);
  const graphFieldIndex = fields.findIndex((entry) => entry.field === MODEL_FIELD.graph && entry.wireType === WIRE.lengthDelimited);
  if (graphFieldIndex < 0 || firstVarint(fields, MODEL_FIELD.irVersion) === undefined) {
    throw new QuantizeError('QUANTIZE_ONNX_MALFORMED', `${source} is not an ONNX model: it has no ir_version or no graph`);
  }
  const opsets: OnnxOpset[] = [];
  fields.forEach((entry, index) => {
    if (entry.field !== MODEL_FIELD.opsetImport) return;
    const opset = fieldsOrThrow(entry.payload, 'an opset import');
    opsets.push({ domain: firstString(opset, OPSET_FIELD.domain), version: firstVarint(opset, OPSET_FIELD.version) ?? 0, fieldIndex: index });
  });
  return { fields, graph: readGraph(fields[graphFieldIndex]!.payload), graphFieldIndex, opsets };
}

/** The values of a float32 initializer stored inline (raw_data or float_data). */
export function floatValues(tensor: OnnxInitializer): Float32Array {
  const count = tensor.dims.reduce((size, dim) => size * dim, 1);
  const raw = tensor.fields.find((entry) => entry.field === TENSOR_FIELD.rawData);
  const packed = tensor.fields.find((entry) => entry.field === TENSOR_FIELD.floatData && entry.wireType === WIRE.lengthDelimited);
  const bytes = raw?.payload ?? packed?.payload;
  let values: Float32Array;
  if (bytes) {
    // Copy: the payload's offset inside the file need not be 4-byte aligned.
    values = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(values.buffer).set(bytes);
  } else {
    values = Float32Array.from(
      tensor.fields.filter((entry) => entry.field === TENSOR_FIELD.floatData).map((entry) => readFloat32(entry.payload)),
    );
  }
  if (values.length !== count) {
    throw new QuantizeError(
      'QUANTIZE_ONNX_MALFORMED',
      `initializer ${tensor.name} has dims [${tensor.dims.join(', ')}] (${count} values) but stores ${values.length}`,
    );
  }
  return values;
}
