import { createHmac } from 'node:crypto';

/** The Standard Webhooks headers (https://www.standardwebhooks.com) every delivery carries. */
export const WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

const SECRET_PREFIX = 'whsec_';
// Padded standard base64 only: the reference verifiers decode strictly, while Buffer.from would
// quietly accept base64url, missing padding or stray characters and sign with a key no
// receiver holding the same string could derive.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// The spec's bounds for an HMAC-SHA256 key: 192 to 512 bits.
const KEY_BYTES = { min: 24, max: 64 };

/** The HMAC key of a `whsec_<base64>` secret. The message never contains the secret. */
export function webhookSigningKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : undefined;
  const key = encoded !== undefined && BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : undefined;
  if (!key || key.length < KEY_BYTES.min || key.length > KEY_BYTES.max) {
    throw new TypeError(`secret must be ${SECRET_PREFIX} followed by the base64 of ${KEY_BYTES.min} to ${KEY_BYTES.max} bytes`);
  }
  return key;
}

export interface WebhookToSign {
  /** `webhook-id`: the same on every attempt of one event. */
  id: string;
  /** `webhook-timestamp`: unix seconds of this attempt. */
  timestamp: number;
  /** The exact body sent. */
  body: string;
  /** `whsec_<base64>`, as given to the receiver. */
  secret: string;
}

/** The `webhook-signature` value: `v1,` and the base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`. */
export function signWebhook({ id, timestamp, body, secret }: WebhookToSign): string {
  // '.' separates the signed parts: one inside the id or timestamp would let two different
  // (id, timestamp, body) triples sign the same bytes.
  if (id === '' || id.includes('.')) throw new TypeError('id must be non-empty and contain no "."');
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new TypeError(`timestamp must be whole unix seconds, got ${timestamp}`);
  const mac = createHmac('sha256', webhookSigningKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}
