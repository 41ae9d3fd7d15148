import { readFile } from 'node:fs/promises';

export interface InitializerInfo {
  name: string;
  dataType: number;
  dims: number[];
  rawBytes: number;
}

/*
 * An independent protobuf reader that walks ModelProto.graph (7) -> GraphProto.initializer (5) ->
 * TensorProto dims (1), data_type (2), name (8), raw_data (9). It shares no code with the writer,
 * so a wrong field number or length on the writing side shows up here as a wrong count.
 */
export async function readInitializers(modelPath: string): Promise<InitializerInfo[]> {
  const bytes = await readFile(modelPath);
  const graph = fields(bytes).find((field) => field.number === 7);
  if (!graph?.bytes) throw new Error('model has no graph');
  return fields(graph.bytes)
    .filter((field) => field.number === 5 && field.bytes)
    .map((field) => {
      const tensor = fields(field.bytes!);
      const dims = tensor
        .filter((f) => f.number === 1)
        .flatMap((f) => (f.bytes ? decodePacked(f.bytes) : [f.value!]));
      return {
        name: tensor.find((f) => f.number === 8)?.bytes?.toString('utf8') ?? '',
        dataType: tensor.find((f) => f.number === 2)?.value ?? 0,
        dims,
        rawBytes: tensor.find((f) => f.number === 9)?.bytes?.length ?? 0,
      };
    });
}

interface Field {
  number: number;
  value?: number;
  bytes?: Buffer;
}

function fields(buffer: Buffer): Field[] {
  const result: Field[] = [];
  let offset = 0;
  const readVarint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = buffer[offset++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
  };
  while (offset < buffer.length) {
    const tag = readVarint();
    const number = Math.floor(tag / 8);
    switch (tag % 8) {
      case 0:
        result.push({ number, value: readVarint() });
        break;
      case 2: {
        const length = readVarint();
        result.push({ number, bytes: buffer.subarray(offset, offset + length) });
        offset += length;
        break;
      }
      case 5:
        offset += 4;
        result.push({ number });
        break;
      default:
        throw new Error(`unexpected wire type ${tag % 8} at byte ${offset}`);
    }
  }
  return result;
}

function decodePacked(buffer: Buffer): number[] {
  const values: number[] = [];
  let value = 0;
  let scale = 1;
  for (const byte of buffer) {
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if (byte < 0x80) {
      values.push(value);
      value = 0;
      scale = 1;
    }
  }
  return values;
}
