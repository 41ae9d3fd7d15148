import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-rerankpool-signature';
export const TIMESTAMP_HEADER = 'x-rerankpool-timestamp';

/** `sha256=<hex HMAC-SHA256(body, secret)>`, the value of `X-RerankPool-Signature`. */
export function signWebhookBody(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** For receivers: true when `header` is the signature of the exact bytes received. Constant time. */
export function verifyWebhookSignature(body: string | Buffer, header: string | undefined, secret: string): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(signWebhookBody(body, secret));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
