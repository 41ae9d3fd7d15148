import { QuantizeError } from './errors.js';

export const WIRE = { varint: 0, fixed64: 1, lengthDelimited: 2, fixed32: 5 } as const;

/** One field of a protobuf message, as found on the wire. */
export interface ProtoField {
  field: number;
  wireType: number;
  /** The whole field as encoded (tag included): written back verbatim when it is not changed. */
  encoded: Uint8Array;
  /** The value's bytes: the payload of a length-delimited field, the 4 or 8 bytes of a fixed one. */
  payload: Uint8Array;
  /** The value of a varint field, as a signed 64-bit number (int64 -1 reads as -1). */
  varint: number;
}

class Cursor {
  offset = 0;
  constructor(readonly bytes: Uint8Array) {}

  varint(): number {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      if (this.offset >= this.bytes.length) throw malformed('a varint runs past the end of its message');
      const byte = this.bytes[this.offset++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw malformed('a varint is longer than ten bytes');
    }
    return Number(BigInt.asIntN(64, value));
  }

  take(length: number): Uint8Array {
    if (length < 0 || this.offset + length > this.bytes.length) throw malformed('a field runs past the end of its message');
    const slice = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }
}

function malformed(detail: string): QuantizeError {
  return new QuantizeError('QUANTIZE_ONNX_MALFORMED', `not a valid ONNX protobuf: ${detail}`);
}

/**
 * Splits one message into its fields without interpreting them. Payloads are views into `bytes`
 * (no copies), so a 90 MB model costs no second 90 MB to read.
 */
export function readFields(bytes: Uint8Array): ProtoField[] {
  const cursor = new Cursor(bytes);
  const fields: ProtoField[] = [];
  while (cursor.offset < bytes.length) {
    const start = cursor.offset;
    const tag = cursor.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field < 1) throw malformed(`field number ${field} at byte ${start}`);
    let payload: Uint8Array;
    let varint = 0;
    switch (wireType) {
      case WIRE.varint: {
        const valueStart = cursor.offset;
        varint = cursor.varint();
        payload = bytes.subarray(valueStart, cursor.offset);
        break;
      }
      case WIRE.fixed64:
        payload = cursor.take(8);
        break;
      case WIRE.lengthDelimited:
        payload = cursor.take(cursor.varint());
        break;
      case WIRE.fixed32:
        payload = cursor.take(4);
        break;
      default:
        throw malformed(`unsupported wire type ${wireType} at byte ${start}`);
    }
    fields.push({ field, wireType, encoded: bytes.subarray(start, cursor.offset), payload, varint });
  }
  return fields;
}

/** Packed or unpacked repeated varints (proto2 writers use either). */
export function readRepeatedVarints(fields: readonly ProtoField[], field: number): number[] {
  const values: number[] = [];
  for (const entry of fields) {
    if (entry.field !== field) continue;
    if (entry.wireType === WIRE.varint) {
      values.push(entry.varint);
    } else if (entry.wireType === WIRE.lengthDelimited) {
      const cursor = new Cursor(entry.payload);
      while (cursor.offset < entry.payload.length) values.push(cursor.varint());
    }
  }
  return values;
}

export function readString(payload: Uint8Array): string {
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
}

export function readFloat32(payload: Uint8Array): number {
  return new DataView(payload.buffer, payload.byteOffset, 4).getFloat32(0, true);
}
