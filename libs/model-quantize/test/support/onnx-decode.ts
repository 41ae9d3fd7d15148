/*
 * A test-only ONNX decoder, written apart from the library's reader so the tests do not trust the
 * code they test: it decodes the handful of ModelProto fields the reference needs (onnx/onnx.proto
 * field numbers) into plain values.
 */

export type TensorData = Float32Array | Int8Array | Uint8Array | BigInt64Array | Int32Array;

export interface DecodedTensor {
  name: string;
  dataType: number;
  dims: number[];
  data: TensorData;
}

export interface DecodedAttribute {
  f?: number;
  i?: number;
  ints: number[];
  t?: DecodedTensor;
}

export interface DecodedNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, DecodedAttribute>;
}

export interface DecodedModel {
  opsets: { domain: string; version: number }[];
  nodes: DecodedNode[];
  initializers: Map<string, DecodedTensor>;
  inputs: string[];
  outputs: string[];
}

type Field = { no: number; value: bigint | Uint8Array };

function fields(bytes: Uint8Array): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = bytes[at++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
    }
  };
  while (at < bytes.length) {
    const key = Number(varint());
    const wire = key & 7;
    if (wire === 0) out.push({ no: key >> 3, value: varint() });
    else if (wire === 2) {
      const length = Number(varint());
      out.push({ no: key >> 3, value: bytes.subarray(at, at + length) });
      at += length;
    } else if (wire === 5) {
      out.push({ no: key >> 3, value: bytes.subarray(at, at + 4) });
      at += 4;
    } else if (wire === 1) {
      out.push({ no: key >> 3, value: bytes.subarray(at, at + 8) });
      at += 8;
    } else throw new Error(`wire type ${wire}`);
  }
  return out;
}

const text = (value: bigint | Uint8Array): string => new TextDecoder().decode(value as Uint8Array);
const int = (value: bigint | Uint8Array): number => Number(BigInt.asIntN(64, value as bigint));

/** Repeated int64: one varint field, or a packed run of varints. */
function packed(value: bigint | Uint8Array): number[] {
  if (typeof value === 'bigint') return [int(value)];
  const values: number[] = [];
  let current = 0n;
  let shift = 0n;
  for (const byte of value) {
    current |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
    if (byte < 0x80) {
      values.push(int(current));
      current = 0n;
      shift = 0n;
    }
  }
  return values;
}

function tensor(bytes: Uint8Array): DecodedTensor {
  let name = '';
  let dataType = 0;
  const dims: number[] = [];
  let raw = new Uint8Array(0);
  for (const f of fields(bytes)) {
    if (f.no === 1) dims.push(...packed(f.value));
    else if (f.no === 2) dataType = int(f.value);
    else if (f.no === 8) name = text(f.value);
    else if (f.no === 9) raw = new Uint8Array(f.value as Uint8Array);
  }
  const buffer = raw.buffer;
  const data: TensorData =
    dataType === 1 ? new Float32Array(buffer) : dataType === 2 ? new Uint8Array(buffer) : dataType === 3 ? new Int8Array(buffer) : dataType === 6 ? new Int32Array(buffer) : new BigInt64Array(buffer);
  return { name, dataType, dims, data };
}

function attribute(bytes: Uint8Array): [string, DecodedAttribute] {
  let name = '';
  const decoded: DecodedAttribute = { ints: [] };
  for (const f of fields(bytes)) {
    if (f.no === 1) name = text(f.value);
    else if (f.no === 2) decoded.f = new DataView((f.value as Uint8Array).slice().buffer).getFloat32(0, true);
    else if (f.no === 3) decoded.i = int(f.value);
    else if (f.no === 5) decoded.t = tensor(f.value as Uint8Array);
    else if (f.no === 8) decoded.ints.push(...packed(f.value));
  }
  return [name, decoded];
}

function node(bytes: Uint8Array): DecodedNode {
  const decoded: DecodedNode = { opType: '', inputs: [], outputs: [], attributes: {} };
  for (const f of fields(bytes)) {
    if (f.no === 1) decoded.inputs.push(text(f.value));
    else if (f.no === 2) decoded.outputs.push(text(f.value));
    else if (f.no === 4) decoded.opType = text(f.value);
    else if (f.no === 5) {
      const [name, value] = attribute(f.value as Uint8Array);
      decoded.attributes[name] = value;
    }
  }
  return decoded;
}

const valueInfoName = (bytes: Uint8Array): string => text(fields(bytes).find((f) => f.no === 1)!.value);

export function decodeModel(bytes: Uint8Array): DecodedModel {
  const model: DecodedModel = { opsets: [], nodes: [], initializers: new Map(), inputs: [], outputs: [] };
  for (const f of fields(bytes)) {
    if (f.no === 8) {
      const opset = fields(f.value as Uint8Array);
      model.opsets.push({ domain: text(opset.find((o) => o.no === 1)?.value ?? new Uint8Array()), version: int(opset.find((o) => o.no === 2)!.value) });
    }
    if (f.no !== 7) continue;
    for (const g of fields(f.value as Uint8Array)) {
      if (g.no === 1) model.nodes.push(node(g.value as Uint8Array));
      else if (g.no === 5) {
        const t = tensor(g.value as Uint8Array);
        model.initializers.set(t.name, t);
      } else if (g.no === 11) model.inputs.push(valueInfoName(g.value as Uint8Array));
      else if (g.no === 12) model.outputs.push(valueInfoName(g.value as Uint8Array));
    }
  }
  return model;
}
