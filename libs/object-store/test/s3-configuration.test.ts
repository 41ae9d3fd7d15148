import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { openObjectStore } from '../src/index.js';
import { failureOf, readAll, s3Server } from './support/stores.js';

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('when configuring the S3 client from the environment', () => {
  const server = s3Server();

  it('should honour endpoint, region and keys from options.env', async () => {
    const { AWS_ENDPOINT_URL_S3, ...rest } = server().env;
    // The generic variable works too when the S3-specific one is absent.
    const store = openObjectStore(`s3://${server().bucket}/env/`, { env: { ...rest, AWS_ENDPOINT_URL: AWS_ENDPOINT_URL_S3 } });
    try {
      await store.put('x', 'y');

      expect((await readAll(await store.read('x'))).toString()).toBe('y');
    } finally {
      await store.close();
    }
  });

  it('should report access_denied for unknown credentials without repeating the secret', async () => {
    // s3rver checks the access key id (it does not verify V4 signatures).
    const secret = 'not-the-right-secret-4f9a';
    const env = { ...server().env, AWS_ACCESS_KEY_ID: 'AKIAUNKNOWN', AWS_SECRET_ACCESS_KEY: secret };
    const store = openObjectStore(`s3://${server().bucket}/env/`, { env });
    try {
      const error = await failureOf(store.put('x', 'y'));

      expect(error.code).toBe('access_denied');
      expect(error.message).toContain(`s3://${server().bucket}/env/x`);
      expect(error.message).toContain('InvalidAccessKeyId');
      expect(error.message).not.toContain(secret);
    } finally {
      await store.close();
    }
  });

  it('should report unavailable when nothing answers at the endpoint', async () => {
    const env = { ...server().env, AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${await closedPort()}` };
    const store = openObjectStore(`s3://${server().bucket}/env/`, { env });
    try {
      const error = await failureOf(store.read('x'));

      expect(error.code).toBe('unavailable');
      expect(error.message).toContain(`s3://${server().bucket}/env/x`);
    } finally {
      await store.close();
    }
  });

  it('should reject an endpoint that is not an http(s) URL', async () => {
    const error = await failureOf(() => openObjectStore('s3://bucket/', { env: { AWS_ENDPOINT_URL_S3: 'minio:9000' } }));

    expect(error.code).toBe('invalid_url');
    expect(error.message).toContain('AWS_ENDPOINT_URL_S3');
  });

  it('should close idempotently', async () => {
    const store = openObjectStore(`s3://${server().bucket}/`, { env: server().env });

    await store.close();
    await store.close();
  });
});
