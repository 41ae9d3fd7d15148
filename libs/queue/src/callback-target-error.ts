/**
 * Why a callback URL or the address it leads to is refused. The API answers every code but
 * `invalid_allowed_host` with a 400 on `callback_url`; the dispatcher counts any of them as a failed
 * delivery attempt.
 */
export type CallbackTargetErrorCode =
  /** Not an absolute http:// or https:// URL with a host. */
  | 'invalid_url'
  /** The URL carries a user name or password. */
  | 'credentials'
  /** The host name itself is refused (cloud metadata names, localhost). */
  | 'forbidden_name'
  /** The host is, or resolves to, an address inside the operator's network. */
  | 'forbidden_address'
  /** The host name does not resolve. */
  | 'unresolvable'
  /** An allow-list entry (WEBHOOK_ALLOWED_HOSTS) is not a host name, an IP address or a CIDR range. */
  | 'invalid_allowed_host';

export class CallbackTargetError extends Error {
  override readonly name = 'CallbackTargetError';
  readonly code: CallbackTargetErrorCode;

  constructor(code: CallbackTargetErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
