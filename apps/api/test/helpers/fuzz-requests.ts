import fc from 'fast-check';

/** A JSON schema as the OpenAPI document holds it (the subset the contracts use). */
export interface Schema {
  type?: string;
  anyOf?: Schema[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
}

/** One documented operation: method, path template (`/v1/jobs/{id}`), and what it takes. */
export interface Operation {
  method: string;
  path: string;
  params: Record<string, Schema>;
  query: Record<string, Schema>;
  /** Content types and their body schemas. */
  bodies: Record<string, Schema | undefined>;
}

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

/** Every operation of an OpenAPI 3 document. */
export function operationsOf(document: { paths: Record<string, Record<string, any>> }): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const params: Record<string, Schema> = {};
      const query: Record<string, Schema> = {};
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in === 'path') params[parameter.name] = parameter.schema;
        if (parameter.in === 'query') query[parameter.name] = parameter.schema;
      }
      const bodies: Record<string, Schema | undefined> = {};
      for (const [type, content] of Object.entries<any>(operation.requestBody?.content ?? {})) bodies[type] = content.schema;
      operations.push({ method: method.toUpperCase(), path, params, query, bodies });
    }
  }
  return operations;
}

// Characters that trip parsers: quotes, escapes, brackets, control and multi-byte characters.
const tricky = fc.constantFrom('"', '\\', '\\u0000', '[', ']', '{', '}', ',', ':', 'é', '😀', '\u2028', '\n', '\t', ' ', 'a', '0', '__proto__', 'constructor');
const text = fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 24 }) }, { weight: 1, arbitrary: fc.string({ unit: tricky, maxLength: 12 }) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) });

/** Values a schema accepts, mostly; bounds widened a little on each side to reach the edges. */
export function valueFor(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return fc.jsonValue({ maxDepth: 2 });
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((branch) => valueFor(branch, depth)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'string': {
      const strings = fc.oneof(
        { weight: 5, arbitrary: fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 30, 30) }) },
        { weight: 1, arbitrary: text },
        { weight: 1, arbitrary: fc.constantFrom(' ', '   ', 'x'.repeat((schema.maxLength ?? 2000) + 1)) },
      );
      return schema.pattern === '^https?://' ? fc.oneof(strings.map((rest) => `http://${rest}`), strings) : strings;
    }
    case 'integer':
      return fc.oneof(fc.integer({ min: (schema.minimum ?? -5) - 1, max: Math.min(schema.maximum ?? 50, 1_000_000) + 1 }), fc.constantFrom(0, -1, 2 ** 53, 1.5));
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(valueFor(schema.items, depth + 1), { minLength: Math.max(0, (schema.minItems ?? 0) - 1), maxLength: 6 });
    case 'object': {
      const properties = schema.properties ?? {};
      if (Object.keys(properties).length === 0) return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
      const record = fc.record(
        Object.fromEntries(Object.entries(properties).map(([key, property]) => [key, valueFor(property, depth + 1)])),
        { requiredKeys: (schema.required ?? []).filter((key) => key in properties) },
      );
      return fc.oneof({ weight: 6, arbitrary: record }, { weight: 1, arbitrary: fc.record(Object.fromEntries(Object.entries(properties).map(([key, property]) => [key, valueFor(property, depth + 1)]))) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

type Mutation = (body: string) => string;

const nested = (levels: number): string => `${'['.repeat(levels)}1${']'.repeat(levels)}`;

/** Edits of a serialized body: the malformed, deep, huge and poisoned bodies hostile clients send. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 8, arbitrary: fc.constant((body: string) => body) },
  fc.integer({ min: 0, max: 200 }).map((at) => (body: string) => body.slice(0, at)),
  fc.tuple(fc.nat(), fc.string({ unit: tricky, maxLength: 4 })).map(([at, junk]) => (body: string) => body.slice(0, at % (body.length + 1)) + junk + body.slice(at % (body.length + 1))),
  fc.integer({ min: 10, max: 40 }).map((levels) => (body: string) => body.replace(/^\{/, `{"x":${nested(levels)},`)),
  fc.integer({ min: 12, max: 20 }).map((levels) => (body: string) => body.replace(/\{"/, `{"meta":${nested(levels)},"`)),
  fc.constantFrom('{"__proto__":{"polluted":1},', '{"constructor":{"prototype":{"polluted":1}},', '{"\\u005f_proto__":{},').map((head) => (body: string) => body.replace(/^\{/, head)),
  fc.integer({ min: 1_000, max: 70_000 }).map((length) => (body: string) => body.replace(/^\{/, `{"query":"${'q'.repeat(length)}",`)),
  fc.integer({ min: 100, max: 3_000 }).map((count) => (body: string) => body.replace(/^\{/, `{"x":[${Array(count).fill('0').join(',')}],`)),
  fc.constantFrom('', ' ', 'null', '[]', '{}', '"text"', '{"query":', '\u0000', '\ufeff{}', '{"a":1}{"b":2}').map((replacement) => () => replacement),
);

const contentTypes = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  { weight: 2, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/x-ndjson', 'text/plain', 'APPLICATION/JSON') },
  { weight: 1, arbitrary: fc.constantFrom('application/xml', 'multipart/form-data; boundary=x', ';;;', 'application/json; charset=utf-16', '*/*') },
  { weight: 1, arbitrary: fc.constant('') },
);

/** Header values HTTP allows (light-my-request refuses the others; the socket fuzz sends them). */
const headerValue = fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.:/ =;,"'.split('')), maxLength: 40 });

const segment = fc.oneof(
  fc.constantFrom('v1', 'v2', 'rerank', 'info', 'health', 'jobs', 'batches', 'results', 'models', 'healthz', 'readyz', 'metrics', 'openapi.json', '', '..', '.', '%', '%zz', '%E0%A4%A', '%00', '%2F', 'é', '%C3%A9'),
  fc.string({ unit: fc.constantFrom(...'abcz09-_.~%:@!$&()*+,;='.split('')), maxLength: 12 }),
);

function idFor(schema: Schema | undefined): fc.Arbitrary<string> {
  const max = schema?.maxLength ?? 200;
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom(...'abcdef0123456789-'.split('')), minLength: 1, maxLength: 40 }) },
    { weight: 1, arbitrary: fc.constantFrom(max - 1, max, max + 1, 2 * max).map((length) => 'i'.repeat(length)) },
    { weight: 1, arbitrary: segment.map((value) => value || 'x') },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }).map((value) => encodeURIComponent(value) || 'x') },
  );
}

function pathFor(operation: Operation): fc.Arbitrary<string> {
  const names = [...operation.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
  return fc.tuple(...names.map((name) => idFor(operation.params[name]))).map((values) => {
    let path = operation.path;
    names.forEach((name, index) => (path = path.replace(`{${name}}`, values[index])));
    return path;
  });
}

function queryFor(operation: Operation): fc.Arbitrary<string> {
  const known = Object.entries(operation.query).map(([name, schema]) => valueFor(schema).map((value) => `${name}=${encodeURIComponent(String(value))}`));
  const junk = fc.constantFrom('x=1', 'a[b]=c', '%zz=1', '__proto__=1', 'idempotency_key=', 'idempotency_key=a&idempotency_key=b');
  return fc.array(fc.oneof(...known, junk), { maxLength: 3 }).map((parts) => (parts.length > 0 ? `?${parts.join('&')}` : ''));
}

/** A body for the operation: valid by its schema, mutated, or plain garbage; NDJSON lines for batches. */
function payloadFor(operation: Operation, rerankSchema: Schema | undefined): fc.Arbitrary<{ contentType: string; payload?: string }> {
  const schemas = Object.entries(operation.bodies);
  if (schemas.length === 0) return fc.oneof({ weight: 5, arbitrary: fc.constant({ contentType: '' }) }, { weight: 1, arbitrary: fc.record({ contentType: contentTypes, payload: fc.json() }) });
  const isBatch = 'application/x-ndjson' in operation.bodies;
  const line = valueFor(rerankSchema).map((value) => JSON.stringify(value));
  const json = isBatch
    ? fc.oneof(fc.array(line, { maxLength: 5 }).map((lines) => `[${lines.join(',')}]`), valueFor(operation.bodies['application/json']).map((value) => JSON.stringify(value)))
    : valueFor(schemas[0][1]).map((value) => JSON.stringify(value));
  const body = fc.tuple(json, mutation).map(([serialized, mutate]) => mutate(serialized));
  const ndjson = fc.array(fc.tuple(line, mutation).map(([serialized, mutate]) => mutate(serialized)), { maxLength: 5 }).map((lines) => `${lines.join('\n')}\n`);
  return fc.oneof(
    { weight: 10, arbitrary: fc.record({ contentType: contentTypes, payload: body }) },
    { weight: isBatch ? 4 : 0, arbitrary: ndjson.map((payload) => ({ contentType: 'application/x-ndjson', payload })) },
    { weight: 1, arbitrary: fc.record({ contentType: contentTypes, payload: fc.string({ unit: 'binary', maxLength: 64 }) }) },
    { weight: 1, arbitrary: fc.constant({ contentType: '' }) },
  );
}

const methods = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS');

/** Requests to documented operations (mostly well aimed) and to paths no route has. */
export function requestArbitrary(operations: readonly Operation[], apiKey: string): fc.Arbitrary<FuzzRequest> {
  const rerankSchema = operations.find((operation) => operation.path === '/v1/rerank')?.bodies['application/json'];
  const documented = fc.constantFrom(...operations).chain((operation) =>
    fc.record({
      method: fc.oneof({ weight: 9, arbitrary: fc.constant(operation.method) }, { weight: 1, arbitrary: methods }),
      path: pathFor(operation),
      query: queryFor(operation),
      body: payloadFor(operation, rerankSchema),
    }),
  );
  const stray = fc.record({
    method: methods,
    path: fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
    query: fc.constant(''),
    body: fc.oneof(fc.constant({ contentType: '' }), fc.record({ contentType: contentTypes, payload: fc.json() })),
  });
  const headers = fc.record(
    {
      authorization: fc.oneof({ weight: 8, arbitrary: fc.constant(`Bearer ${apiKey}`) }, { weight: 1, arbitrary: fc.constantFrom('Bearer nope', 'Basic Zm9vOmJhcg==', 'Bearer', '') }, { weight: 1, arbitrary: headerValue }),
      'x-request-id': headerValue,
      traceparent: fc.oneof(fc.constant('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'), headerValue),
      'idempotency-key': headerValue,
      accept: fc.constantFrom('application/json', '*/*', 'text/html', 'application/x-ndjson'),
    },
    { requiredKeys: ['authorization'] },
  );
  return fc.tuple(fc.oneof({ weight: 5, arbitrary: documented }, { weight: 1, arbitrary: stray }), headers).map(([target, extra]) => {
    // The queue dashboard (bull-board, /admin/queues) is a third-party UI with its own formats; not fuzzed.
    const path = target.path.startsWith('/admin') ? `/x${target.path}` : target.path;
    const request: FuzzRequest = { method: target.method, url: `${path}${target.query}`, headers: { ...extra } };
    if (target.body.contentType) request.headers['content-type'] = target.body.contentType;
    if (target.body.payload !== undefined && target.method !== 'GET' && target.method !== 'HEAD') request.payload = target.body.payload;
    return request;
  });
}

const tokenChars = 'abcdefghijklmnopqrstuvwxyz0123456789-'.split('');

/** Raw HTTP/1.1 requests with oversized, malformed or odd request lines and headers, for a real socket. */
export const rawRequestArbitrary: fc.Arbitrary<string> = fc
  .record({
    method: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('GET', 'POST', 'DELETE') }, { weight: 1, arbitrary: fc.constantFrom('FOO', 'GE(T', 'get', '') }),
    path: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('/healthz', '/v1/jobs/abc', '/v1/models', '/nope') },
      { weight: 2, arbitrary: fc.integer({ min: 8_000, max: 40_000 }).map((length) => `/v1/jobs/${'j'.repeat(length)}`) },
      { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', '/', '%', ' ', '\u0001', 'é', '#', '?'), maxLength: 20 }).map((path) => `/${path}`) },
    ),
    version: fc.oneof({ weight: 8, arbitrary: fc.constant('HTTP/1.1') }, { weight: 1, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', '') }),
    headers: fc.array(
      fc.tuple(
        fc.oneof({ weight: 8, arbitrary: fc.string({ unit: fc.constantFrom(...tokenChars), minLength: 1, maxLength: 12 }).map((name) => `x-${name}`) }, { weight: 1, arbitrary: fc.constantFrom('Bad Name', 'x:y', '', 'x\u0000') }),
        fc.oneof({ weight: 8, arbitrary: fc.string({ maxLength: 20 }).map((value) => value.replace(/[\r\n]/g, '')) }, { weight: 2, arbitrary: fc.integer({ min: 4_000, max: 20_000 }).map((length) => 'v'.repeat(length)) }, { weight: 1, arbitrary: fc.constantFrom('a\u0000b', 'é', '\u007f') }),
      ),
      { maxLength: 8 },
    ),
    manyHeaders: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 100, max: 500 }) }),
    body: fc.oneof(fc.constant(''), fc.json().map((value) => value.slice(0, 200))),
  })
  .map(({ method, path, version, headers, manyHeaders, body }) => {
    const lines = [`${method} ${path} ${version}`, 'Host: fuzz', 'Connection: close'];
    for (const [name, value] of headers) lines.push(`${name}: ${value}`);
    for (let i = 0; i < manyHeaders; i++) lines.push(`x-filler-${i}: ${'f'.repeat(40)}`);
    if (body) lines.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`);
    return `${lines.join('\r\n')}\r\n\r\n${body}`;
  });
