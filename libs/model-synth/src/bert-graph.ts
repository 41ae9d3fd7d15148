import { GraphBuilder } from './graph-builder.js';
import type { GraphSpec } from './onnx-proto.js';
import { BERT_LAYER_NORM_EPS, type BertShape } from './presets.js';

export interface BertGraph {
  graph: GraphSpec;
  /** Elements in the graph's initializers, i.e. the learned weights actually written. */
  parameterCount: number;
}

/** BERT's initializer_range; used for embeddings and biases. */
const EMBEDDING_STD = 0.02;
/** Added to attention scores of padded keys; large enough that softmax gives them exactly 0 in float32. */
const MASKED_SCORE = -10000;

/**
 * Builds BertForSequenceClassification with one logit, node for node the graph that exporting the
 * Hub models yields, so onnxruntime does the same work as for the real model.
 *
 * Dense weights use std 1/sqrt(fan_in) rather than BERT's 0.02: with 0.02 the attention and FFN
 * branches shrink to a few percent of the residual and every input gets nearly the same logit,
 * which would let tests about masking or ranking pass by accident.
 */
export interface BertGraphOptions {
  /**
   * Declare a `token_type_ids` input (BERT). Without it the graph adds the type-0 embedding to
   * every token, as XLM-RoBERTa exports (bge-reranker) do, and has only two inputs.
   */
  tokenTypeInput: boolean;
}

export function buildBertGraph(shape: BertShape, rng: () => number, options: BertGraphOptions = { tokenTypeInput: true }): BertGraph {
  const { hiddenSize, numHeads, numLayers, intermediateSize } = shape;
  const headDim = hiddenSize / numHeads;
  const g = new GraphBuilder(rng);

  const dense = (prefix: string, x: string, inSize: number, outSize: number, outputName?: string): string => {
    const weight = g.weight(`${prefix}.weight`, [inSize, outSize], { kind: 'normal', std: 1 / Math.sqrt(inSize) });
    const bias = g.weight(`${prefix}.bias`, [outSize], { kind: 'normal', std: EMBEDDING_STD });
    return g.node(`/${prefix}/Add`, 'Add', [g.node(`/${prefix}/MatMul`, 'MatMul', [x, weight]), bias], [], outputName);
  };
  const layerNorm = (prefix: string, x: string): string => {
    const scale = g.weight(`${prefix}.weight`, [hiddenSize], { kind: 'constant', value: 1 });
    const bias = g.weight(`${prefix}.bias`, [hiddenSize], { kind: 'constant', value: 0 });
    return g.node(`/${prefix}/LayerNormalization`, 'LayerNormalization', [x, scale, bias], [
      { name: 'axis', kind: 'int', value: -1 },
      { name: 'epsilon', kind: 'float', value: BERT_LAYER_NORM_EPS },
    ]);
  };
  const embedding = (name: string, rows: number): string =>
    g.weight(`bert.embeddings.${name}.weight`, [rows, hiddenSize], { kind: 'normal', std: EMBEDDING_STD });

  const dynamic = ['batch_size', 'sequence_length'];
  const inputIds = g.input({ name: 'input_ids', elemType: 'int64', shape: dynamic });
  const attentionMask = g.input({ name: 'attention_mask', elemType: 'int64', shape: dynamic });

  // Embeddings: word + position (rows 0..S-1 of the table) + token type, then LayerNorm.
  const words = g.node('/bert/embeddings/word_embeddings/Gather', 'Gather', [embedding('word_embeddings', shape.vocabSize), inputIds]);
  const positionTable = embedding('position_embeddings', shape.maxPositions);
  const tokenTypes = g.node('/bert/embeddings/token_type_embeddings/Gather', 'Gather', [
    embedding('token_type_embeddings', shape.typeVocabSize),
    options.tokenTypeInput
      ? g.input({ name: 'token_type_ids', elemType: 'int64', shape: dynamic })
      : g.constantInt64Scalar('/bert/embeddings/token_type_zero', 0),
  ]);
  const sequenceLength = g.node('/bert/embeddings/Shape', 'Shape', [inputIds], [
    { name: 'start', kind: 'int', value: 1 },
    { name: 'end', kind: 'int', value: 2 },
  ]);
  const positions = g.node('/bert/embeddings/Slice', 'Slice', [
    positionTable,
    g.constantInt64s('/bert/embeddings/slice_starts', [0]),
    sequenceLength,
    g.constantInt64s('/bert/embeddings/slice_axes', [0]),
  ]);
  const summed = g.node('/bert/embeddings/Add_1', 'Add', [g.node('/bert/embeddings/Add', 'Add', [words, tokenTypes]), positions]);
  let hidden = layerNorm('bert.embeddings.LayerNorm', summed);

  // Additive mask [B,1,1,S]: 0 for real tokens, MASKED_SCORE for padding, broadcast over heads and queries.
  const maskFloat = g.node('/bert/mask/Cast', 'Cast', [attentionMask], [{ name: 'to', kind: 'int', value: 1 }]);
  const inverted = g.node('/bert/mask/Sub', 'Sub', [g.constantFloat('/bert/mask/one', 1), maskFloat]);
  const maskBias = g.node('/bert/mask/Unsqueeze', 'Unsqueeze', [
    g.node('/bert/mask/Mul', 'Mul', [inverted, g.constantFloat('/bert/mask/masked_score', MASKED_SCORE)]),
    g.constantInt64s('/bert/mask/unsqueeze_axes', [1, 2]),
  ]);

  const splitHeads = g.constantInt64s('/bert/encoder/split_heads_shape', [0, 0, numHeads, headDim]);
  const mergeHeads = g.constantInt64s('/bert/encoder/merge_heads_shape', [0, 0, hiddenSize]);
  const scoreScale = g.constantFloat('/bert/encoder/score_scale', 1 / Math.sqrt(headDim));
  const sqrt2 = g.constantFloat('/bert/encoder/sqrt_2', Math.SQRT2);
  const one = g.constantFloat('/bert/encoder/one', 1);
  const half = g.constantFloat('/bert/encoder/half', 0.5);

  for (let layer = 0; layer < numLayers; layer++) {
    const p = `bert.encoder.layer.${layer}`;
    const n = `/bert/encoder/layer.${layer}`;
    const heads = (name: string, perm: number[]): string =>
      g.node(`${n}/attention/self/${name}/Transpose`, 'Transpose', [
        g.node(`${n}/attention/self/${name}/Reshape`, 'Reshape', [dense(`${p}.attention.self.${name}`, hidden, hiddenSize, hiddenSize), splitHeads]),
      ], [{ name: 'perm', kind: 'ints', value: perm }]);

    const query = heads('query', [0, 2, 1, 3]); // [B,H,S,d]
    const keyT = heads('key', [0, 2, 3, 1]); // [B,H,d,S], ready for Q·Kᵀ
    const value = heads('value', [0, 2, 1, 3]);
    const scores = g.node(`${n}/attention/self/Mul`, 'Mul', [g.node(`${n}/attention/self/MatMul`, 'MatMul', [query, keyT]), scoreScale]);
    const probs = g.node(`${n}/attention/self/Softmax`, 'Softmax', [g.node(`${n}/attention/self/Add`, 'Add', [scores, maskBias])], [
      { name: 'axis', kind: 'int', value: -1 },
    ]);
    const context = g.node(`${n}/attention/self/Reshape_3`, 'Reshape', [
      g.node(`${n}/attention/self/Transpose_3`, 'Transpose', [g.node(`${n}/attention/self/MatMul_1`, 'MatMul', [probs, value])], [
        { name: 'perm', kind: 'ints', value: [0, 2, 1, 3] },
      ]),
      mergeHeads,
    ]);
    const attended = dense(`${p}.attention.output.dense`, context, hiddenSize, hiddenSize);
    hidden = layerNorm(`${p}.attention.output.LayerNorm`, g.node(`${n}/attention/output/Add`, 'Add', [attended, hidden]));

    // GELU in its exact erf form; the Gelu operator only exists from opset 20.
    const up = dense(`${p}.intermediate.dense`, hidden, hiddenSize, intermediateSize);
    const erf = g.node(`${n}/intermediate/Erf`, 'Erf', [g.node(`${n}/intermediate/Div`, 'Div', [up, sqrt2])]);
    const gelu = g.node(`${n}/intermediate/Mul_1`, 'Mul', [
      g.node(`${n}/intermediate/Mul`, 'Mul', [up, g.node(`${n}/intermediate/Add`, 'Add', [erf, one])]),
      half,
    ]);
    const down = dense(`${p}.output.dense`, gelu, intermediateSize, hiddenSize);
    hidden = layerNorm(`${p}.output.LayerNorm`, g.node(`${n}/output/Add`, 'Add', [down, hidden]));
  }

  // Pooler reads the [CLS] position; a scalar index drops the sequence axis: [B,S,H] -> [B,H].
  const cls = g.node('/bert/pooler/Gather', 'Gather', [hidden, g.constantInt64Scalar('/bert/pooler/cls_index', 0)], [
    { name: 'axis', kind: 'int', value: 1 },
  ]);
  const pooled = g.node('/bert/pooler/activation/Tanh', 'Tanh', [dense('bert.pooler.dense', cls, hiddenSize, hiddenSize)]);
  const logits = dense('classifier', pooled, hiddenSize, 1, 'logits');
  g.output({ name: logits, elemType: 'float', shape: ['batch_size', 1] });

  return { graph: g.build('main_graph'), parameterCount: g.parameterCount };
}
