import { S3Client } from '@aws-sdk/client-s3';
import { redactUrl } from './object-url.js';
import { ObjectStoreError } from './object-store-error.js';

const DEFAULT_REGION = 'us-east-1';

/** Time to establish a TCP/TLS connection before the attempt fails (and the SDK retries). */
const CONNECTION_TIMEOUT_MS = 5_000;
/**
 * Longest silence on an open socket, during a request or while the caller streams a body. An
 * endpoint that accepts the connection and then stalls fails after this instead of hanging.
 */
const SOCKET_TIMEOUT_MS = 60_000;

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function endpointFrom(env: NodeJS.ProcessEnv): string | undefined {
  const name = nonEmpty(env.AWS_ENDPOINT_URL_S3) !== undefined ? 'AWS_ENDPOINT_URL_S3' : 'AWS_ENDPOINT_URL';
  const endpoint = nonEmpty(env[name]);
  if (endpoint === undefined) return undefined;
  let protocol: string | undefined;
  try {
    protocol = new URL(endpoint).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new ObjectStoreError('invalid_url', `${name}="${redactUrl(endpoint)}" is not an http(s) URL such as http://minio:9000`);
  }
  return endpoint;
}

/**
 * Keys given in `env` are used directly, so a caller's env object wins over the process's; without
 * them the SDK's default chain resolves credentials (env, profiles, web identity / IRSA, IMDS).
 */
function credentialsFrom(env: NodeJS.ProcessEnv) {
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  if (accessKeyId === undefined || secretAccessKey === undefined) return undefined;
  return { accessKeyId, secretAccessKey, sessionToken: nonEmpty(env.AWS_SESSION_TOKEN) };
}

function forcePathStyleFrom(env: NodeJS.ProcessEnv, endpoint: string | undefined): boolean {
  const flag = env.AWS_S3_FORCE_PATH_STYLE?.toLowerCase();
  if (flag === 'true') return true;
  if (flag === 'false') return false;
  // MinIO, s3rver and most self-hosted endpoints have no wildcard DNS for bucket subdomains.
  return endpoint !== undefined;
}

/** An S3 client configured from AWS_* variables in `env`, for AWS S3 and S3-compatible stores. */
export function createS3Client(env: NodeJS.ProcessEnv): S3Client {
  const endpoint = endpointFrom(env);
  return new S3Client({
    region: nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? DEFAULT_REGION,
    endpoint,
    forcePathStyle: forcePathStyleFrom(env, endpoint),
    credentials: credentialsFrom(env),
    // Since v3.729 the SDK checksums every upload by default (CRC32, aws-chunked trailers for
    // streams), which MinIO, R2 and s3rver versions reject or store verbatim. Checksums are still
    // sent where the API requires one (DeleteObjects).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // The region defaults to us-east-1; a bucket elsewhere answers 301 until the client follows.
    followRegionRedirects: true,
    requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, socketTimeout: SOCKET_TIMEOUT_MS },
  });
}
