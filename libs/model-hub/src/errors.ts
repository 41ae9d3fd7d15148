/**
 * Stable codes for every failure this library reports. Callers (the CLI, the worker's model
 * loader) switch on `code`; the message is written for the person at the terminal.
 */
export type HubErrorCode =
  /** Offline mode is on and the model/revision is not in the local cache. */
  | 'HUB_OFFLINE'
  /** The endpoint could not be reached (connection refused, DNS failure, timeout). */
  | 'HUB_UNREACHABLE'
  /** A download stopped part-way; the partial file is kept so the next pull resumes it. */
  | 'HUB_INTERRUPTED'
  /** The repository, revision or file does not exist. */
  | 'HUB_NOT_FOUND'
  /** 401/403: gated or private repository without (or with an insufficient) token. */
  | 'HUB_UNAUTHORIZED'
  /** The repository has no ONNX file matching the requested variant. */
  | 'HUB_NO_ONNX'
  /** The repository lacks a tokenizer/config file the runtime needs. */
  | 'HUB_INCOMPLETE_REPO'
  /** A downloaded file's size or hash does not match what the Hub announced. */
  | 'HUB_VERIFY_FAILED'
  /** The reference is neither an existing directory nor a valid Hub id. */
  | 'HUB_BAD_ID'
  /** An option value is invalid; the message names the option. */
  | 'HUB_BAD_OPTION'
  /** `download: false` and the model is not cached. */
  | 'HUB_NOT_CACHED'
  /** The Hub answered with an unexpected status or payload. */
  | 'HUB_BAD_RESPONSE';

export class HubError extends Error {
  override readonly name = 'HubError';
  readonly code: HubErrorCode;

  constructor(code: HubErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
