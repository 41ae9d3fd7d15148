import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKey } from '@rerank-pool/config';
import { Errors } from '@rerank-pool/contracts';

const DEFAULT_TENANT = 'default';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Maps an Authorization header to a tenant. Without API keys configured everyone is the
 * `default` tenant. Keys are compared as digests in constant time, all of them every time, so
 * response timing does not reveal how much of a key matched or which tenant it belongs to.
 */
export function createAuthenticator(apiKeys: readonly ApiKey[] | undefined): (authorization: string | undefined) => string {
  if (!apiKeys || apiKeys.length === 0) return () => DEFAULT_TENANT;
  const known = apiKeys.map(({ tenant, key }) => ({ tenant, digest: digest(key) }));
  return (authorization) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw Errors.unauthorized();
    const given = digest(match[1]);
    let tenant: string | undefined;
    for (const entry of known) if (timingSafeEqual(entry.digest, given)) tenant = entry.tenant;
    if (tenant === undefined) throw Errors.forbidden();
    return tenant;
  };
}
