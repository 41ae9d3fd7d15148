import { Errors } from '@rerank-pool/contracts';
import { CallbackTargetError } from '@rerank-pool/queue';
import type { CallbackTargetPolicy } from '@rerank-pool/queue';

/**
 * A `callback_url` the dispatcher may deliver to, or a 400 on `callback_url` saying why not. The
 * dispatcher checks again at connect time; this check lets the client know at once, and keeps a
 * job it could never deliver out of the queue.
 */
export async function checkCallbackUrl(policy: CallbackTargetPolicy, url: string): Promise<void> {
  try {
    await policy.check(url);
  } catch (error) {
    if (!(error instanceof CallbackTargetError)) throw error;
    const inside = error.code === 'forbidden_address' || error.code === 'forbidden_name';
    const hint = inside ? "; webhooks are not sent into the operator's network unless the operator lists the host in WEBHOOK_ALLOWED_HOSTS" : '';
    throw Errors.invalidRequest(`callback_url ${error.message}${hint}`, 'callback_url');
  }
}
