import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connection, createHarness } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';

let harness: Harness;
let monitor: Socket;
/** Every command Redis ran that names one of this test's keys, as MONITOR prints it (lower-cased name, quoted arguments). */
const commands: string[] = [];
const acme = { authorization: 'Bearer acme-key' };
const globex = { authorization: 'Bearer globex-key' };

beforeAll(async () => {
  harness = await createHarness({ API_KEYS: 'acme:acme-key,globex:globex-key' });
  // MONITOR over a plain socket: its lines are read as text, not through a client's reply parser.
  monitor = connect(connection.port ?? 6379, connection.host ?? '127.0.0.1');
  let pending = '';
  monitor.setEncoding('utf8');
  monitor.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\r\n');
    pending = lines.pop()!;
    for (const line of lines) if (line.includes(harness.prefix)) commands.push(line.slice(line.indexOf('] ') + 2));
  });
  await new Promise<void>((resolve) => monitor.once('data', () => resolve()).write('MONITOR\r\n'));
});

afterAll(async () => {
  monitor?.destroy();
  await harness?.close();
});

/** The commands a request ran on keys naming `id`, with the id written as ID. */
async function commandsOf(id: string, request: () => Promise<unknown>): Promise<string[]> {
  const start = commands.length;
  await request();
  // MONITOR reports a command as it runs; give the last ones time to arrive.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return commands
    .slice(start)
    .filter((command) => command.includes(id))
    .map((command) => command.replaceAll(id, 'ID'));
}

describe("when a tenant asks for another tenant's job", () => {
  it('should answer exactly as for a job that does not exist: same status, headers and body', async () => {
    const accepted = await harness.app.inject({ method: 'POST', url: '/v1/jobs', payload: { query: 'secret plans', documents: ['10 a'] }, headers: acme });
    expect(accepted.statusCode).toBe(202);
    const { id } = accepted.json();
    const missing = randomUUID();
    expect(missing).toHaveLength(id.length);

    for (const method of ['GET', 'DELETE'] as const) {
      const foreign = await harness.app.inject({ method, url: `/v1/jobs/${id}`, headers: globex });
      const absent = await harness.app.inject({ method, url: `/v1/jobs/${missing}`, headers: globex });
      expect(foreign.statusCode).toBe(404);
      expect(absent.statusCode).toBe(404);
      expect(foreign.body.replaceAll(id, 'ID')).toBe(absent.body.replaceAll(missing, 'ID'));
      const { 'x-request-id': _a, date: _b, ...foreignHeaders } = foreign.headers;
      const { 'x-request-id': _c, date: _d, ...absentHeaders } = absent.headers;
      expect(foreignHeaders).toEqual(absentHeaders);
    }
    // Still there for its owner, still queued.
    expect((await harness.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: acme })).json()).toMatchObject({ id, status: 'queued' });
  });

  it("should run the same Redis commands as for a missing job, and never read the job's payload", async () => {
    const { id } = (await harness.app.inject({ method: 'POST', url: '/v1/jobs', payload: { query: 'more plans', documents: ['10 a'] }, headers: acme })).json();
    const missing = randomUUID();
    // Let MONITOR deliver the commands that added it first.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const foreign = await commandsOf(id, () => harness.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: globex }));
    const absent = await commandsOf(missing, () => harness.app.inject({ method: 'GET', url: `/v1/jobs/${missing}`, headers: globex }));
    // One HGET of the job's name and one GET of its tombstone per served model, nothing else.
    expect(foreign.length).toBeGreaterThan(0);
    expect(foreign.every((command) => /^"(hget" "\S+:ID" "name|get" "\S+:cancelled:ID)"$/i.test(command)), foreign.join('\n')).toBe(true);
    expect([...foreign].sort()).toEqual([...absent].sort());
    // The owner's read does load the job.
    const own = await commandsOf(id, () => harness.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: acme }));
    expect(own.length).toBeGreaterThan(foreign.length);
  });
});
