// One offline batch: an NDJSON upload of `lines` lines (line i is input i mod K), sent again
// with its idempotency key until accepted (bounded); at the end its status is polled until it
// finishes (bounded) and its results checked line by line: every line once, in order, with the
// reference scores.
import { httpRequest } from './http-client.mjs';
import { resultDiffers } from './workload.mjs';
import { log, sleep } from './util.mjs';

function batchLine(i, inputs) {
  const input = inputs[i % inputs.length];
  return { id: `l${i}`, query: input.query, documents: input.documents };
}

function ndjson(lines, inputs) {
  let text = '';
  for (let i = 0; i < lines; i++) text += `${JSON.stringify(batchLine(i, inputs))}\n`;
  return Buffer.from(text);
}

/** Uploads the batch; resolves with {id, accepted_at, attempts, bytes} or {error}. */
export async function uploadBatch({ port, inputs, lines, key, retryForMs = 60_000, timeoutMs = 60_000 }) {
  const body = ndjson(lines, inputs);
  const first = Date.now();
  for (let attempt = 1; ; attempt++) {
    const answer = await httpRequest({
      port,
      method: 'POST',
      path: '/v1/batches',
      body,
      headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': key },
      timeoutMs,
    });
    if (answer.status === 202 && answer.body?.id) {
      log(`batch ${answer.body.id}: ${lines} lines (${(body.length / 1e6).toFixed(1)} MB) accepted in ${((Date.now() - first) / 1000).toFixed(1)} s`);
      return { id: answer.body.id, accepted_at: Date.now(), attempts: attempt, bytes: body.length };
    }
    const reason = answer.body?.error?.code ?? answer.status;
    if (Date.now() - first > retryForMs) return { error: `upload not accepted: ${reason}`, attempts: attempt };
    log(`batch upload answered ${reason}; sending it again`);
    await sleep(1000);
  }
}

/** Waits (bounded) for the batch to finish, then checks its results. */
export async function collectBatch({ port, id, inputs, reference, lines, deadlineMs }) {
  const deadline = Date.now() + deadlineMs;
  let state;
  let lastLog = 0;
  while (Date.now() < deadline) {
    const answer = await httpRequest({ port, path: `/v1/batches/${id}`, timeoutMs: 10_000 });
    if (answer.status === 200) {
      state = answer.body;
      if (state.finished_at !== undefined) break;
    }
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      log(`batch ${id}: ${state ? `${state.status} ${state.completed}/${state.total}` : `status answered ${answer.status}`}`);
    }
    await sleep(500);
  }
  const report = {
    id,
    lines,
    status: state?.status ?? 'unknown',
    total: state?.total ?? null,
    completed: state?.completed ?? 0,
    failed: state?.failed ?? 0,
    cancelled: state?.cancelled ?? 0,
    finished: state?.finished_at !== undefined,
  };
  if (!report.finished) return { ...report, exact: false, problem: `not finished within ${deadlineMs / 1000} s` };

  const answer = await httpRequest({ port, path: `/v1/batches/${id}/results`, timeoutMs: 60_000, json: false });
  if (answer.status !== 200) return { ...report, exact: false, problem: `results answered ${answer.status}` };
  const seen = new Array(lines).fill(0);
  let outOfOrder = 0;
  let differing = 0;
  let lineErrors = 0;
  let unparsable = 0;
  let position = 0;
  const examples = [];
  for (const text of answer.text.split('\n')) {
    if (text.trim() === '') continue;
    let row;
    try {
      row = JSON.parse(text);
    } catch {
      unparsable++;
      continue;
    }
    const i = Number(String(row.id).slice(1));
    if (!(i >= 0 && i < lines) || row.id !== `l${i}`) {
      unparsable++;
      continue;
    }
    seen[i]++;
    if (row.index !== i || i !== position) outOfOrder++;
    position++;
    if (row.error) {
      lineErrors++;
      continue;
    }
    const reason = resultDiffers(row.results, reference[i % inputs.length]);
    if (reason) {
      differing++;
      if (examples.length < 3) examples.push(`${row.id}: ${reason}`);
    }
  }
  const missing = seen.filter((n) => n === 0).length;
  const duplicated = seen.reduce((sum, n) => sum + Math.max(0, n - 1), 0);
  const exact =
    report.status === 'completed' && report.total === lines && report.completed === lines && report.failed === 0 && report.cancelled === 0 &&
    missing === 0 && duplicated === 0 && outOfOrder === 0 && differing === 0 && lineErrors === 0 && unparsable === 0;
  return {
    ...report,
    exact,
    results: { missing, duplicated, out_of_order: outOfOrder, line_errors: lineErrors, unparsable, differing },
    ...(examples.length > 0 && { differing_examples: examples }),
  };
}
