/**
 * The hash tag of a model's keys: every key of its queue, of its webhook queue and of this
 * library's bookkeeping for it holds `{tag}`, so on a Redis Cluster they all share one slot (BullMQ's
 * scripts and a webhook flow touch several of them at once) while different models' queues spread
 * over the nodes. BullMQ queue names cannot contain ':' (it separates Redis key parts) and model
 * ids contain '/'; encodeURIComponent escapes both, and the braces, and is injective, so two
 * models never share a tag.
 */
function modelTag(modelId: string): string {
  if (modelId === '') throw new TypeError('modelId must not be empty');
  return `{${encodeURIComponent(modelId)}}`;
}

/** The BullMQ queue of a model's rerank jobs: `rerank-{model}`. */
export function queueNameForModel(modelId: string): string {
  return `rerank-${modelTag(modelId)}`;
}

/**
 * The BullMQ queue of a model's offline batch lines: `lines-{model}`. Lines have a queue and job
 * slots of their own, so a saturating batch never holds the slot an interactive job needs:
 * BullMQ hands a worker's free slot to whatever job is first, and cannot keep one for a priority.
 */
export function lineQueueNameForModel(modelId: string): string {
  return `lines-${modelTag(modelId)}`;
}

/**
 * The BullMQ queue of the webhook deliveries of a model's jobs: `webhooks-{model}`. A delivery is
 * the flow parent of its rerank job, and BullMQ moves a parent in the same script that finishes
 * its child, so the two queues must share a slot: one webhook queue per model, not one for all.
 */
export function webhookQueueNameForModel(modelId: string): string {
  return `webhooks-${modelTag(modelId)}`;
}
