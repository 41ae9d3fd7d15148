import { createHash } from 'node:crypto';
import type { DeleteObjectsCommand } from '@aws-sdk/client-s3';

/**
 * DeleteObjects must carry a body checksum. The SDK now sends CRC32 (x-amz-checksum-crc32), which
 * AWS accepts but some MinIO releases and other S3-compatible stores reject with
 * MissingContentMD5; Content-MD5 is accepted by all of them. This is AWS's documented MD5 fallback
 * (supplemental-docs/MD5_FALLBACK.md), applied to one command. Low priority in the build step runs
 * it after the SDK's checksum middleware, so it can replace what that one added.
 */
export function withContentMd5(command: DeleteObjectsCommand): DeleteObjectsCommand {
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      if (request.headers !== undefined && (typeof request.body === 'string' || request.body instanceof Uint8Array)) {
        for (const name of Object.keys(request.headers)) {
          const lower = name.toLowerCase();
          if (lower.startsWith('x-amz-checksum-') || lower.startsWith('x-amz-sdk-checksum-')) delete request.headers[name];
        }
        request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
      }
      return next(args);
    },
    { step: 'build', priority: 'low', name: 'objectStoreContentMd5' },
  );
  return command;
}
