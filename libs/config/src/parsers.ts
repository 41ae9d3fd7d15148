import { parseLocationUrl } from '@rerank-pool/object-store/url';
import { parseAllowedHosts } from '@rerank-pool/queue/callback-target-policy';

/**
 * Parsers turn one raw env value into a typed value or throw a message that completes
 * "<NAME> must be ..." (the variable name is prepended by `loadConfig`).
 */
export type Parser<T> = (raw: string) => T;

export class ParseProblem extends Error {}

function shown(raw: string): string {
  return JSON.stringify(raw);
}

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> {
  const what = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
  return (raw) => {
    const value = Number(raw.trim());
    if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new ParseProblem(`must be ${what}${max < Number.MAX_SAFE_INTEGER ? ` <= ${max}` : ''}, got ${shown(raw)}`);
    }
    return value;
  };
}

export function oneOf<const T extends string>(values: readonly T[]): Parser<T> {
  return (raw) => {
    const value = raw.trim().toLowerCase();
    if (!(values as readonly string[]).includes(value)) {
      throw new ParseProblem(`must be one of ${values.join('|')}, got ${shown(raw)}`);
    }
    return value as T;
  };
}

export function nonEmptyString(raw: string): string {
  const value = raw.trim();
  if (value === '') throw new ParseProblem('must not be empty');
  return value;
}

/** A URL whose scheme is one of `schemes`; `article` reads right before the first ("an http://"). */
function url(schemes: readonly string[], article: 'a' | 'an'): Parser<string> {
  const named = schemes.map((scheme) => `${scheme}://`).join(' or ');
  return (raw) => {
    const value = raw.trim();
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new ParseProblem(`must be ${article} ${named} URL, got ${shown(raw)}`);
    }
    if (!schemes.includes(parsed.protocol.slice(0, -1))) throw new ParseProblem(`must use ${named}, got ${parsed.protocol}//`);
    return value;
  };
}

export const redisUrl = url(['redis', 'rediss'], 'a');

export const httpUrl = url(['http', 'https'], 'an');

/**
 * Where batches are stored: `file:///absolute/dir` or `s3://bucket[/prefix]`, checked by the
 * same parser that opens the store (libs/object-store), whose message names what is wrong.
 */
export function storeUrl(raw: string): string {
  const value = raw.trim();
  try {
    parseLocationUrl(value);
  } catch (error) {
    throw new ParseProblem(`must be a file:///absolute/dir or s3://bucket/prefix URL (${(error as Error).message})`);
  }
  return value;
}

/** A comma list of `file:///…` and `s3://…` URL prefixes. */
export function storeUrlList(raw: string): string[] {
  return commaList(raw).map((entry) => storeUrl(entry));
}

/** One `host:port` (`[v6 address]:port` for IPv6) of a comma list such as REDIS_SENTINELS. */
export interface HostPort {
  host: string;
  port: number;
}

/** A comma list of `host:port`; a missing port is `defaultPort` (6379 for Redis, 26379 for Sentinel). */
export function hostPortList(defaultPort: number): Parser<HostPort[]> {
  return (raw) =>
    commaList(raw).map((entry) => {
      const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s\[\]]+))(?::(\d{1,5}))?$/.exec(entry);
      const port = match?.[3] === undefined ? defaultPort : Number(match[3]);
      if (!match || port < 1 || port > 65535) throw new ParseProblem(`must be a comma list of host:port, got ${shown(entry)} in ${shown(raw)}`);
      return { host: match[1] ?? match[2]!, port };
    });
}

export function commaList(raw: string): string[] {
  const items = raw.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw new ParseProblem(`must be a comma-separated list without empty entries, got ${shown(raw)}`);
  return items;
}

/**
 * Webhook receivers inside the operator's network: host names, IP addresses and CIDR ranges, read
 * by the same parser the API's check and the dispatcher use.
 */
export function webhookAllowedHosts(raw: string): string[] {
  const entries = commaList(raw);
  try {
    parseAllowedHosts(entries);
  } catch (error) {
    throw new ParseProblem(`must be a comma list of host names, IP addresses and CIDR ranges; ${(error as Error).message}`);
  }
  return entries;
}

const WEBHOOK_SECRET_PREFIX = 'whsec_';
// Padded standard base64, as the Standard Webhooks verifiers decode it: a looser reading here
// would accept a secret that receivers decode to another key, or refuse to decode at all.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * A Standard Webhooks signing secret: `whsec_` and the base64 of 24 to 64 bytes (the spec's
 * 192 to 512 bits). Messages say what is wrong without ever showing the secret.
 */
export function webhookSecret(raw: string): string {
  const value = raw.trim();
  const format = `${WEBHOOK_SECRET_PREFIX}<base64 of 24 to 64 random bytes>, e.g. ${WEBHOOK_SECRET_PREFIX}$(openssl rand -base64 32)`;
  if (!value.startsWith(WEBHOOK_SECRET_PREFIX)) throw new ParseProblem(`must be ${format}; the value does not start with ${WEBHOOK_SECRET_PREFIX}`);
  const encoded = value.slice(WEBHOOK_SECRET_PREFIX.length);
  if (!BASE64.test(encoded)) {
    throw new ParseProblem(`must be ${format}; what follows ${WEBHOOK_SECRET_PREFIX} is not standard padded base64 (A-Z a-z 0-9 + /, = to a multiple of 4)`);
  }
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < 24 || bytes > 64) throw new ParseProblem(`must be ${format}; it decodes to ${bytes} bytes`);
  return value;
}

export interface ApiKey {
  tenant: string;
  key: string;
}

/** `tenant:key,tenant2:key2`; a key may itself contain ':' (split at the first one). */
export function apiKeys(raw: string): ApiKey[] {
  const entries = commaList(raw).map((entry, index) => {
    const colon = entry.indexOf(':');
    const tenant = entry.slice(0, colon).trim();
    const key = entry.slice(colon + 1).trim();
    if (colon <= 0 || tenant === '' || key === '') {
      throw new ParseProblem(`must be a list of tenant:key pairs; entry ${index + 1} is not`);
    }
    return { tenant, key };
  });
  const keys = new Set(entries.map((entry) => entry.key));
  if (keys.size !== entries.length) throw new ParseProblem('must not give the same key to two tenants');
  return entries;
}

/** The `<variant>` of `onnx/model_<variant>.onnx` (quantized, quint8_avx2, fp16): a file name part, never a path. */
export function modelVariant(raw: string): string {
  const value = raw.trim();
  if (!/^[A-Za-z0-9_-]+$/.test(value)) {
    throw new ParseProblem(`must be a variant name such as quantized (selecting onnx/model_quantized.onnx): letters, digits, _ and -; got ${shown(raw)}`);
  }
  return value;
}

export interface ModelAlias {
  /** The name a request may give as `model`. */
  alias: string;
  /** The served model id that answers it. */
  model: string;
}

/**
 * `alias=model,alias2=model2`. Only the shape is checked here (each entry one `=` between two
 * names, no alias twice); whether each target is served is known only when the API has resolved
 * its models (`resolveModelAliases`).
 */
export function modelAliases(raw: string): ModelAlias[] {
  const seen = new Set<string>();
  return commaList(raw).map((entry) => {
    const equals = entry.indexOf('=');
    const alias = entry.slice(0, equals).trim();
    const model = entry.slice(equals + 1).trim();
    if (equals <= 0 || alias === '' || model === '' || model.includes('=')) {
      throw new ParseProblem(`must be a comma list of alias=model entries; entry ${shown(entry)} is not`);
    }
    if (alias === model) throw new ParseProblem(`must not alias a model to itself; entry ${shown(entry)} does`);
    if (seen.has(alias)) throw new ParseProblem(`must name each alias once; entry ${shown(entry)} names ${shown(alias)} again`);
    seen.add(alias);
    return { alias, model };
  });
}
