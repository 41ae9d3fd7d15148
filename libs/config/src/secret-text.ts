/** What a redacted value reads as. */
export const REDACTED = '***';

/** The URL with its password (and user, which can be a token on managed Redis) hidden. */
export function redactRedisUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = REDACTED;
    return url.toString();
  } catch {
    return REDACTED;
  }
}
