import { fillNormal } from './random.js';
import type { AttributeSpec, GraphSpec, NodeSpec, TensorSpec, ValueInfoSpec } from './onnx-proto.js';

export type WeightInit = { kind: 'normal'; std: number } | { kind: 'constant'; value: number };

/**
 * Collects nodes and initializers for one graph. Learned weights become initializers and are the
 * only thing counted as parameters; shape vectors, axes and scalars become Constant nodes, so the
 * initializer list of the written model is exactly the parameter list.
 */
export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly initializers: TensorSpec[] = [];
  private readonly inputs: ValueInfoSpec[] = [];
  private readonly outputs: ValueInfoSpec[] = [];
  private readonly usedNames = new Set<string>();
  private parameters = 0;

  constructor(private readonly rng: () => number) {}

  get parameterCount(): number {
    return this.parameters;
  }

  input(info: ValueInfoSpec): string {
    this.inputs.push(info);
    return info.name;
  }

  output(info: ValueInfoSpec): void {
    this.outputs.push(info);
  }

  /** Adds a float32 parameter; values are drawn in call order, which makes the seed decisive. */
  weight(name: string, dims: readonly number[], init: WeightInit): string {
    const values = new Float32Array(dims.reduce((size, dim) => size * dim, 1));
    if (init.kind === 'normal') fillNormal(values, this.rng, init.std);
    else values.fill(init.value);
    this.initializers.push({
      name: this.claim(name),
      dataType: 'float',
      dims,
      rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    });
    this.parameters += values.length;
    return name;
  }

  constantFloat(name: string, value: number): string {
    const rawData = new Uint8Array(Float32Array.of(value).buffer);
    return this.constant(name, { name, dataType: 'float', dims: [], rawData });
  }

  constantInt64s(name: string, values: readonly number[]): string {
    const rawData = new Uint8Array(BigInt64Array.from(values, (value) => BigInt(value)).buffer);
    return this.constant(name, { name, dataType: 'int64', dims: [values.length], rawData });
  }

  /** Scalar int64 (rank 0), e.g. a Gather index that drops the gathered axis. */
  constantInt64Scalar(name: string, value: number): string {
    const rawData = new Uint8Array(BigInt64Array.of(BigInt(value)).buffer);
    return this.constant(name, { name, dataType: 'int64', dims: [], rawData });
  }

  /** Adds a single-output node named `name`; its output is `${name}_output` unless a graph output name is given. */
  node(
    name: string,
    opType: string,
    inputs: readonly string[],
    attributes: readonly AttributeSpec[] = [],
    outputName = `${name}_output`,
  ): string {
    const output = this.claim(outputName);
    this.nodes.push({ name: this.claim(name), opType, inputs, outputs: [output], attributes });
    return output;
  }

  build(name: string): GraphSpec {
    return { name, nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs: this.outputs };
  }

  private constant(name: string, tensor: TensorSpec): string {
    return this.node(name, 'Constant', [], [{ name: 'value', kind: 'tensor', value: tensor }]);
  }

  /** ONNX requires unique value names; a clash is a bug in the graph code, not a user error. */
  private claim(name: string): string {
    if (this.usedNames.has(name)) throw new Error(`duplicate ONNX name ${name}`);
    this.usedNames.add(name);
    return name;
  }
}
