import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { HubError } from './errors.js';

/** Where and how to reach the Hub. Every field is optional; defaults follow huggingface_hub. */
export interface HubOptions {
  /** Hub base URL. Default: env HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /**
   * Cache root shared with huggingface_hub. Default: env HF_HUB_CACHE, else
   * HUGGINGFACE_HUB_CACHE (legacy name), else $HF_HOME/hub, else
   * $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
   */
  cacheDir?: string;
  /** Never touch the network; serve from the cache only. Default: env HF_HUB_OFFLINE is 1/true/yes/on. */
  offline?: boolean;
  /** Bearer token for gated/private repositories. Default: env HF_TOKEN. */
  token?: string;
  /** fetch implementation. Default: the global fetch. Meant for proxies/instrumentation. */
  fetch?: typeof fetch;
}

export interface PullProgress {
  /** Repo-relative path of the file being downloaded. */
  file: string;
  /** Bytes on disk for this file so far (includes bytes resumed from an earlier attempt). */
  downloaded: number;
  /** Expected size of the file in bytes. */
  total: number;
}

export interface PullOptions extends HubOptions {
  /** Branch, tag or commit sha. Default: 'main'. */
  revision?: string;
  /**
   * ONNX variant: 'quantized' selects onnx/model_quantized.onnx. Default: none, which selects
   * model.onnx at the repo root if present, else onnx/model.onnx.
   */
  variant?: string;
  /** Called as bytes arrive, per file. Default: no progress reporting. */
  onProgress?: (progress: PullProgress) => void;
  /**
   * How many times an interrupted download is resumed (with a Range request) within one call
   * before giving up with HUB_INTERRUPTED. Default: 3.
   */
  retries?: number;
}

/** PullOptions with every default applied and validated. */
export interface ResolvedPullOptions {
  endpoint: string;
  cacheDir: string;
  offline: boolean;
  token: string | undefined;
  fetch: typeof fetch;
  revision: string;
  variant: string | undefined;
  onProgress: (progress: PullProgress) => void;
  retries: number;
}

export const DEFAULT_PULL_OPTIONS = {
  endpoint: 'https://huggingface.co',
  revision: 'main',
  retries: 3,
} as const;

type Env = Record<string, string | undefined>;

// huggingface_hub's notion of a truthy env flag (constants._is_true).
const TRUTHY = new Set(['1', 'true', 'yes', 'on']);

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function defaultCacheDir(env: Env): string {
  const explicit = nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE);
  if (explicit) return explicit;
  const hfHome =
    nonEmpty(env.HF_HOME) ?? join(nonEmpty(env.XDG_CACHE_HOME) ?? join(homedir(), '.cache'), 'huggingface');
  return join(hfHome, 'hub');
}

function bad(field: string, message: string): HubError {
  return new HubError('HUB_BAD_OPTION', `${field} ${message}`);
}

function validateEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw bad('endpoint', `must be an http(s) URL, got "${endpoint}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw bad('endpoint', `must be an http(s) URL, got "${endpoint}"`);
  }
  // Paths are appended as `${endpoint}/api/...`: a trailing slash would double it.
  return endpoint.replace(/\/+$/, '');
}

function validateRevision(revision: string): string {
  // The revision becomes a path under refs/ (e.g. refs/pr/1), so it must not escape it.
  const segments = revision.split('/');
  if (revision === '' || isAbsolute(revision) || revision.includes('\\') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw bad('revision', `must be a branch, tag or commit sha, got "${revision}"`);
  }
  return revision;
}

function validateVariant(variant: string | undefined): string | undefined {
  if (variant === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(variant)) {
    throw bad('variant', `must be a name such as "quantized" (selecting onnx/model_quantized.onnx), got "${variant}"`);
  }
  return variant;
}

/** Fills defaults from `env` (the process environment unless given) and validates each field. */
export function resolvePullOptions(options: PullOptions = {}, env: Env = process.env): ResolvedPullOptions {
  const retries = options.retries ?? DEFAULT_PULL_OPTIONS.retries;
  if (!Number.isInteger(retries) || retries < 0) throw bad('retries', `must be an integer >= 0, got ${retries}`);
  const cacheDir = options.cacheDir ?? defaultCacheDir(env);
  if (cacheDir === '') throw bad('cacheDir', 'must not be empty');
  const token = options.token ?? nonEmpty(env.HF_TOKEN);
  return {
    endpoint: validateEndpoint(options.endpoint ?? nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_PULL_OPTIONS.endpoint),
    cacheDir,
    offline: options.offline ?? TRUTHY.has((env.HF_HUB_OFFLINE ?? '').trim().toLowerCase()),
    token: token === '' ? undefined : token,
    fetch: options.fetch ?? globalThis.fetch,
    revision: validateRevision(options.revision ?? DEFAULT_PULL_OPTIONS.revision),
    variant: validateVariant(options.variant),
    onProgress: options.onProgress ?? (() => {}),
    retries,
  };
}
