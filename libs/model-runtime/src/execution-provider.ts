/** Where `session.run` executes. CUDA needs onnxruntime-node's CUDA libraries and a GPU. */
export type ExecutionProvider = 'cpu' | 'cuda';

export const EXECUTION_PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'cuda'];

export function isExecutionProvider(value: string): value is ExecutionProvider {
  return (EXECUTION_PROVIDERS as readonly string[]).includes(value);
}
