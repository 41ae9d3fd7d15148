const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** Payloads at least this long are kept as their own chunk instead of being copied byte by byte. */
const INLINE_LIMIT = 256;

/**
 * Minimal protobuf wire-format encoder. A message is a list of chunks: small fields accumulate in a
 * byte array, large payloads (weight tensors) are referenced as-is, and nested messages splice their
 * chunks in. Every byte is therefore copied once, when the caller joins the final chunk list, which
 * keeps a ~91 MB model linear to build.
 */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private pending: number[] = [];
  private length = 0;

  get byteLength(): number {
    return this.length + this.pending.length;
  }

  /** int32/int64/enum/bool field. Negative values take ten bytes, as protobuf requires for int64. */
  varint(field: number, value: number): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.pending.push(...bytes);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.rawVarint(value.byteLength);
    if (value.byteLength < INLINE_LIMIT) {
      for (const byte of value) this.pending.push(byte);
    } else {
      this.flush();
      this.chunks.push(value);
      this.length += value.byteLength;
    }
    return this;
  }

  /** Packed repeated int64 (the proto3 default encoding for repeated scalars). */
  packedVarints(field: number, values: readonly number[]): this {
    const body = new ProtoWriter();
    for (const value of values) body.rawVarint(value);
    return this.message(field, body);
  }

  message(field: number, body: ProtoWriter): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.rawVarint(body.byteLength);
    this.flush();
    for (const chunk of body.finish()) {
      this.chunks.push(chunk);
      this.length += chunk.byteLength;
    }
    return this;
  }

  /** Appends bytes that are already encoded fields (tag included), e.g. fields a reader kept verbatim. */
  raw(encoded: Uint8Array): this {
    if (encoded.byteLength < INLINE_LIMIT) {
      for (const byte of encoded) this.pending.push(byte);
    } else {
      this.flush();
      this.chunks.push(encoded);
      this.length += encoded.byteLength;
    }
    return this;
  }

  /** The encoded message as chunks, in order; join them (or write them) to get the bytes. */
  finish(): Uint8Array[] {
    this.flush();
    return this.chunks;
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType);
  }

  private rawVarint(value: number): void {
    if (!Number.isSafeInteger(value)) throw new RangeError(`varint value ${value} is not a safe integer`);
    if (value >= 0 && value < 2 ** 31) {
      let rest = value;
      while (rest > 0x7f) {
        this.pending.push((rest & 0x7f) | 0x80);
        rest >>>= 7;
      }
      this.pending.push(rest);
      return;
    }
    let rest = BigInt.asUintN(64, BigInt(value));
    while (rest > 0x7fn) {
      this.pending.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    this.pending.push(Number(rest));
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(Uint8Array.from(this.pending));
    this.length += this.pending.length;
    this.pending = [];
  }
}
