import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HubError, pullModel, resolveModelRef } from '../src/index.js';
import { FakeHub } from './fake-hub.js';
import { fakeRepo, modelFiles, tempDir } from './fixtures.js';

describe('when choosing which ONNX file to fetch', () => {
  let hub: FakeHub;
  let cache: Awaited<ReturnType<typeof tempDir>>;

  beforeEach(async () => {
    hub = await FakeHub.start([
      fakeRepo('org/variants', modelFiles(['onnx/model.onnx', 'onnx/model_quantized.onnx', 'onnx/model_O4.onnx'], 20_000)),
      fakeRepo('org/root-onnx', modelFiles(['model.onnx', 'onnx/model.onnx'], 20_000)),
      fakeRepo('org/external', {
        ...modelFiles(['onnx/model.onnx'], 20_000),
        'onnx/model.onnx_data': Buffer.alloc(50_000, 1),
      }),
      fakeRepo('org/only-variants', modelFiles(['onnx/model_fp16.onnx', 'onnx/model_int8.onnx'], 20_000)),
      fakeRepo('org/pytorch-only', { ...modelFiles([]), 'model.safetensors': Buffer.alloc(20_000) }),
    ]);
    cache = await tempDir();
  });
  afterEach(async () => {
    await hub.close();
    await cache.remove();
  });

  const options = () => ({ endpoint: hub.url, cacheDir: cache.path, offline: false });
  const onnxFiles = (files: string[]) => files.filter((file) => file.includes('.onnx'));

  it('should fetch only onnx/model_<variant>.onnx for a variant', async () => {
    const pulled = await pullModel('org/variants', { ...options(), variant: 'quantized' });

    expect(onnxFiles(pulled.files)).toEqual(['onnx/model_quantized.onnx']);
    expect(hub.requestsTo('onnx/model.onnx')).toHaveLength(0);
  });

  it('should prefer model.onnx at the root, then onnx/model.onnx, without a variant', async () => {
    expect(onnxFiles((await pullModel('org/root-onnx', options())).files)).toEqual(['model.onnx']);
    expect(onnxFiles((await pullModel('org/variants', options())).files)).toEqual(['onnx/model.onnx']);
  });

  it('should fetch the external data file beside the graph', async () => {
    const pulled = await pullModel('org/external', options());

    expect(onnxFiles(pulled.files)).toEqual(['onnx/model.onnx_data', 'onnx/model.onnx']);
  });

  it('should list the ONNX files that exist when the variant is missing', async () => {
    const error = (await pullModel('org/variants', { ...options(), variant: 'fp16' }).catch((e: unknown) => e)) as HubError;

    expect(error).toBeInstanceOf(HubError);
    expect(error.code).toBe('HUB_NO_ONNX');
    expect(error.message).toContain('onnx/model_fp16.onnx');
    expect(error.message).toContain('onnx/model.onnx, onnx/model_O4.onnx, onnx/model_quantized.onnx');
  });

  it('should suggest --variant when only variants exist', async () => {
    const error = (await pullModel('org/only-variants', options()).catch((e: unknown) => e)) as HubError;

    expect(error.code).toBe('HUB_NO_ONNX');
    expect(error.message).toMatch(/onnx\/model_fp16\.onnx, onnx\/model_int8\.onnx.*--variant/);
  });

  it('should say when a repository has no ONNX export at all', async () => {
    const error = (await pullModel('org/pytorch-only', options()).catch((e: unknown) => e)) as HubError;

    expect(error.code).toBe('HUB_NO_ONNX');
    expect(error.message).toContain('no .onnx file');
  });

  it('should treat a cached snapshot without the requested variant as not cached', async () => {
    await pullModel('org/variants', options());

    const resolved = await resolveModelRef('org/variants', { ...options(), variant: 'O4' });

    expect(resolved.source).toBe('hub-download');
    expect(hub.requestsTo('onnx/model_O4.onnx')).toHaveLength(1);
  });

  it('should reject a variant that is not a plain name', async () => {
    const error = (await pullModel('org/variants', { ...options(), variant: '../model' }).catch((e: unknown) => e)) as HubError;

    expect(error.code).toBe('HUB_BAD_OPTION');
    expect(error.message).toMatch(/^variant /);
  });
});
