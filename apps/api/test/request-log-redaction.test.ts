import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@rerank-pool/config';
import { buildApi } from '../src/index.js';
import { redactUrl } from '../src/request-log.js';
import { deleteKeys, IDLE_MODEL, listenOnLoopback, MODEL, temporaryBatchStore } from './helpers/harness.js';

const SECRET = `sk-${randomBytes(12).toString('hex')}`;
const prefix = `rp-test-${randomBytes(6).toString('hex')}`;
const store = temporaryBatchStore();
const logged: string[] = [];
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  const config = loadConfig({
    RERANK_MODELS: `${MODEL},${IDLE_MODEL}`,
    QUEUE_PREFIX: prefix,
    BATCH_STORE_URL: store.url,
    API_KEYS: `acme:${SECRET}`,
    LOG_LEVEL: 'debug',
  });
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged.push(chunk.toString());
      done();
    },
  });
  app = await buildApi({ config, logDestination: destination });
  base = `http://127.0.0.1:${await listenOnLoopback(app)}`;
});

afterAll(async () => {
  await app?.close();
  await deleteKeys(prefix);
  store.remove();
});

describe('when a client puts its API key in the URL or the Authorization header', () => {
  it('should log the request without the key, keeping the rest of the URL', async () => {
    const responses = await Promise.all([
      fetch(`${base}/v1/models?api_key=${SECRET}&page=2`),
      fetch(`${base}/v1/models?token=${SECRET}`, { headers: { authorization: `Bearer ${SECRET}` } }),
      fetch(`${base}/v1/jobs/nope?KEY=${encodeURIComponent(SECRET)}`, { headers: { authorization: `Bearer ${SECRET}` } }),
      fetch(`${base}/v1/models`, { headers: { authorization: `Bearer ${SECRET}` } }),
    ]);
    expect(responses.map((response) => response.status)).toEqual([401, 200, 404, 200]);
    await new Promise((resolve) => setTimeout(resolve, 50));

    const text = logged.join('');
    const incoming = logged.flatMap((chunk) => chunk.split('\n')).filter((line) => line.includes('"incoming request"'));
    expect(incoming).toHaveLength(4);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(SECRET.slice(3));
    expect(text).toContain('/v1/models?api_key=[REDACTED]&page=2');
    expect(text).toContain('/v1/models?token=[REDACTED]');
    expect(text).toContain('/v1/jobs/nope?KEY=[REDACTED]');
    expect(text.toLowerCase()).not.toContain('authorization');
  });
});

describe('when a URL is redacted for the log', () => {
  it('should replace only credential parameters, whatever their case or encoding', () => {
    expect(redactUrl('/v1/rerank')).toBe('/v1/rerank');
    expect(redactUrl('/a?x=1&api_key=s&y=2')).toBe('/a?x=1&api_key=[REDACTED]&y=2');
    expect(redactUrl('/a?Api_Key=s&TOKEN=t&access_token=u&apikey&key=')).toBe('/a?Api_Key=[REDACTED]&TOKEN=[REDACTED]&access_token=[REDACTED]&apikey=[REDACTED]&key=[REDACTED]');
    expect(redactUrl('/a?api%5Fkey=s&keys=1')).toBe('/a?api%5Fkey=[REDACTED]&keys=1');
  });
});
