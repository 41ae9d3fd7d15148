/**
 * BullMQ queue names cannot contain ':' (it separates Redis key parts) and model ids contain '/'.
 * encodeURIComponent escapes both and is injective, so two models never share a queue; the
 * `rerank-` prefix keeps model queues apart from the `webhooks` queue and heartbeat keys.
 */
export function queueNameForModel(modelId: string): string {
  if (modelId === '') throw new TypeError('modelId must not be empty');
  return `rerank-${encodeURIComponent(modelId)}`;
}
