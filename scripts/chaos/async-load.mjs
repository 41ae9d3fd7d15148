// Asynchronous load: POST /v1/jobs with a callback_url at a steady rate. Each job has its own
// idempotency key, so a submission that got no answer (API killed, Redis away) is sent again
// safely until it is accepted (bounded). At the end every accepted job is polled until it is
// finished (bounded) and its result checked against the reference.
import { httpRequest, keepAliveAgent, retryAfterMs } from './http-client.mjs';
import { resultDiffers } from './workload.mjs';
import { log, sleep } from './util.mjs';

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

export class AsyncLoad {
  /**
   * @param {object} o
   * @param {number} o.port
   * @param {{query: string, documents: string[]}[]} o.inputs
   * @param {number[][]} o.reference
   * @param {import('./timeline.mjs').Timeline} o.timeline
   * @param {number} o.ratePerS submissions started per second
   * @param {string} o.callbackUrl
   * @param {string} o.runId makes idempotency keys unique to the run
   * @param {number} o.retryForMs how long one submission is retried before it counts as not accepted
   * @param {number} o.timeoutMs one HTTP attempt's bound
   * @param {number} o.maxInFlight submissions in flight at most; a tick beyond that is skipped
   */
  constructor({ port, inputs, reference, timeline, ratePerS, callbackUrl, runId, retryForMs, timeoutMs, maxInFlight = 16 }) {
    Object.assign(this, { port, inputs, reference, timeline, ratePerS, callbackUrl, runId, retryForMs, timeoutMs, maxInFlight });
    /** Accepted jobs by id. */
    this.jobs = new Map();
    /** Submissions never accepted: {n, last}. */
    this.notAccepted = [];
    /** Every HTTP attempt: {start, status, window}. */
    this.attempts = [];
    this.skippedTicks = 0;
    this.inFlight = new Set();
    this.next = 0;
    this.agent = keepAliveAgent(maxInFlight);
  }

  start() {
    this.timer = setInterval(() => this.tick(), 1000 / this.ratePerS);
  }

  /** Stops submitting and waits for submissions in flight (each bounded by retryForMs + timeoutMs). */
  async stop() {
    clearInterval(this.timer);
    await Promise.all(this.inFlight);
  }

  tick() {
    if (this.inFlight.size >= this.maxInFlight) {
      this.skippedTicks++;
      return;
    }
    const submission = this.submit(this.next++);
    this.inFlight.add(submission);
    submission.finally(() => this.inFlight.delete(submission));
  }

  async submit(n) {
    const inputIndex = n % this.inputs.length;
    const input = this.inputs[inputIndex];
    const key = `chaos-${this.runId}-${n}`;
    const body = { query: input.query, documents: input.documents, callback_url: this.callbackUrl, idempotency_key: key };
    const first = Date.now();
    let last;
    for (let attempt = 1; ; attempt++) {
      const start = Date.now();
      const answer = await httpRequest({ port: this.port, method: 'POST', path: '/v1/jobs', body, timeoutMs: this.timeoutMs, agent: this.agent });
      this.attempts.push({ start, status: answer.status, window: this.timeline.at(start) });
      last = answer.body?.error?.code ?? answer.status;
      if (answer.status === 202 && typeof answer.body?.id === 'string') {
        this.jobs.set(answer.body.id, { id: answer.body.id, n, key, input: inputIndex, submittedAt: first, acceptedAt: Date.now(), attempts: attempt, window: this.timeline.at(first) });
        return;
      }
      // A 4xx other than 429 will not change on a retry.
      if (typeof answer.status === 'number' && answer.status >= 400 && answer.status < 500 && answer.status !== 429) break;
      if (Date.now() - first > this.retryForMs) break;
      await sleep(retryAfterMs(answer.headers, { fallback: 500, max: 2000 }));
    }
    this.notAccepted.push({ n, key, last, window: this.timeline.at(first) });
  }

  /**
   * Polls GET /v1/jobs/:id for every accepted job until each is finished, or `deadlineMs`
   * passes. Sets `job.final` = {status, results?, error?, differs?}; a job still unfinished
   * keeps its last status (queued, active, not_found, or an HTTP failure).
   */
  async pollAll({ deadlineMs, concurrency = 8 }) {
    const deadline = Date.now() + deadlineMs;
    let pending = [...this.jobs.values()];
    let round = 0;
    while (pending.length > 0 && Date.now() < deadline) {
      round++;
      const lanes = Array.from({ length: Math.min(concurrency, pending.length) }, async (_, lane) => {
        for (let i = lane; i < pending.length && Date.now() < deadline; i += concurrency) await this.pollOne(pending[i]);
      });
      await Promise.all(lanes);
      pending = pending.filter((job) => !TERMINAL.has(job.final?.status) && !(job.final?.status === 'not_found' && job.notFound >= 3));
      if (pending.length > 0) {
        if (round % 5 === 1) log(`polling jobs: ${pending.length} of ${this.jobs.size} not finished yet`);
        await sleep(1000);
      }
    }
    return pending.length;
  }

  async pollOne(job) {
    const answer = await httpRequest({ port: this.port, path: `/v1/jobs/${encodeURIComponent(job.id)}`, timeoutMs: this.timeoutMs, agent: this.agent });
    if (answer.status === 404) {
      job.notFound = (job.notFound ?? 0) + 1;
      job.final = { status: 'not_found' };
      return;
    }
    if (answer.status !== 200) {
      job.final = { status: `http_${answer.status}` };
      return;
    }
    const status = answer.body?.status;
    job.final = { status };
    if (status === 'completed') {
      job.final.results = answer.body.result?.results;
      job.final.finishedAt = Date.parse(answer.body.finished_at);
      const reason = resultDiffers(job.final.results, this.reference[job.input]);
      if (reason) job.final.differs = reason;
    } else if (status === 'failed') {
      job.final.error = answer.body.error;
    }
  }
}
