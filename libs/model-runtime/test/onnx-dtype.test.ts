import { describe, expect, it } from 'vitest';
import { onnxDtype } from '../src/model-info.js';

describe('when the weight type is read from an ONNX file name', () => {
  it.each([
    ['model.onnx', 'float32'],
    ['onnx/model.onnx', 'float32'],
    // What `rerank-pool model quantize` writes, and the Hub's other 8-bit names.
    ['onnx/model_quantized.onnx', 'int8'],
    ['onnx/model_quint8_avx2.onnx', 'int8'],
    ['onnx/model_qint8_avx512_vnni.onnx', 'int8'],
    ['onnx/model_uint8.onnx', 'int8'],
    ['onnx/model_int8.onnx', 'int8'],
    ['onnx/model_fp16.onnx', 'float16'],
    // int4 weights with float16 activations: the weights are what is named.
    ['onnx/model_q4f16.onnx', 'int4'],
    ['onnx/model_bnb4.onnx', 'int4'],
  ])('should call %s %s', (file, dtype) => {
    expect(onnxDtype(file)).toBe(dtype);
  });
});
