import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openObjectStore } from '../src/index.js';

const XMLNS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

/**
 * Just enough of an S3 endpoint to see the headers of DeleteObjects, which s3rver does not check:
 * a fixed listing of p/a and p/b, and a DeleteObjects that records its request.
 */
function recordingServer(deletes: { headers: IncomingHttpHeaders; body: Buffer }[]): Server {
  return createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = new URL(request.url ?? '/', 'http://localhost');
    response.setHeader('content-type', 'application/xml');
    if (request.method === 'GET' && url.searchParams.get('list-type') === '2') {
      const contents = ['p/a', 'p/b'].map((key) => `<Contents><Key>${key}</Key><Size>1</Size></Contents>`).join('');
      response.end(
        `<ListBucketResult ${XMLNS}><Name>bucket</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount>` +
          `<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`,
      );
    } else if (request.method === 'POST' && url.searchParams.has('delete')) {
      deletes.push({ headers: request.headers, body: Buffer.concat(chunks) });
      response.end(`<DeleteResult ${XMLNS}></DeleteResult>`);
    } else {
      response.statusCode = 501;
      response.end();
    }
  });
}

describe('when deleting a prefix on an S3-compatible store', () => {
  const deletes: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
  let server: Server;
  let endpoint: string;
  beforeEach(async () => {
    deletes.length = 0;
    server = recordingServer(deletes);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('should send DeleteObjects with Content-MD5, which MinIO-like stores require, instead of CRC32', async () => {
    const env = { AWS_ENDPOINT_URL_S3: endpoint, AWS_ACCESS_KEY_ID: 'key', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-east-1' };
    const store = openObjectStore('s3://bucket/p/', { env });
    try {
      expect(await store.deletePrefix('')).toBe(2);
    } finally {
      await store.close();
    }

    expect(deletes).toHaveLength(1);
    const [{ headers, body }] = deletes;
    expect(body.toString()).toContain('<Key>p/a</Key>');
    expect(headers['content-md5']).toBe(createHash('md5').update(body).digest('base64'));
    expect(Object.keys(headers).filter((name) => name.startsWith('x-amz-checksum-'))).toEqual([]);
  });
});
