import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';

describe('when MODEL_VARIANT is given', () => {
  it('should keep a variant name, trimmed, and leave it unset by default (float32 model.onnx)', () => {
    expect(loadConfig({ MODEL_VARIANT: ' quint8_avx2 ' }).modelVariant).toBe('quint8_avx2');
    expect(loadConfig({}).modelVariant).toBeUndefined();
  });

  it.each(['../quantized', 'onnx/model_quantized.onnx', 'quantized.onnx'])('should refuse %s, which is not a file name part', (value) => {
    let error: unknown;
    try {
      loadConfig({ MODEL_VARIANT: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const [message] = (error as ConfigError).problems;
    expect(message).toMatch(/^MODEL_VARIANT must be a variant name such as quantized \(selecting onnx\/model_quantized\.onnx\)/);
    expect(message).toContain(JSON.stringify(value));
  });
});
