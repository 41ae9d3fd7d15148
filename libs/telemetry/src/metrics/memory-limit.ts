import { readFileSync } from 'node:fs';

// cgroup v1 writes "no limit" as the largest page-aligned int64; anything this big means none.
const V1_UNLIMITED = 2 ** 62;

function readNumber(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    if (text === 'max') return Number.POSITIVE_INFINITY;
    const value = Number(text);
    return Number.isFinite(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The memory limit of this process's container in bytes, from its cgroup (v2, then v1): what the
 * kernel OOM-kills it at, in Kubernetes the container's `resources.limits.memory`. Infinity when
 * there is none (or no cgroup file to read), so `resident / limit` reads 0 rather than vanishing.
 */
export function containerMemoryLimitBytes(root = '/sys/fs/cgroup'): number {
  const limit = readNumber(`${root}/memory.max`) ?? readNumber(`${root}/memory/memory.limit_in_bytes`);
  if (limit === undefined || limit >= V1_UNLIMITED) return Number.POSITIVE_INFINITY;
  return limit;
}
