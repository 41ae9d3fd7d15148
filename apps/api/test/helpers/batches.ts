import type { FastifyInstance } from 'fastify';

export function ndjson(lines: readonly unknown[]): string {
  return lines.map((line) => JSON.stringify(line)).join('\n') + '\n';
}

/** Polls a batch until it finished (finished_at set) and returns its status body. */
export async function waitForBatch(app: FastifyInstance, id: string, headers: Record<string, string> = {}, timeoutMs = 20_000): Promise<any> {
  const started = Date.now();
  for (;;) {
    const status = (await app.inject({ method: 'GET', url: `/v1/batches/${id}`, headers })).json();
    if (status.finished_at !== undefined) return status;
    if (Date.now() - started > timeoutMs) throw new Error(`batch ${id} did not finish: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export async function readResults(app: FastifyInstance, id: string, headers: Record<string, string> = {}): Promise<any[]> {
  const response = await app.inject({ method: 'GET', url: `/v1/batches/${id}/results`, headers });
  if (response.statusCode !== 200) throw new Error(`results answered ${response.statusCode}: ${response.body}`);
  if (response.headers['content-type'] !== 'application/x-ndjson') throw new Error(`unexpected content-type ${response.headers['content-type']}`);
  return response.body.trimEnd().split('\n').map((line) => JSON.parse(line));
}
