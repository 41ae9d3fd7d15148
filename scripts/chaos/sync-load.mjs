// Synchronous load: a few loops of POST /v1/rerank, each request recorded with its status,
// latency, the window it started in, and whether its scores differ from the reference.
import { httpRequest, keepAliveAgent, retryAfterMs } from './http-client.mjs';
import { resultDiffers } from './workload.mjs';
import { sleep } from './util.mjs';

export class SyncLoad {
  /**
   * @param {object} o
   * @param {number} o.port API port
   * @param {{query: string, documents: string[]}[]} o.inputs
   * @param {number[][]} o.reference
   * @param {import('./timeline.mjs').Timeline} o.timeline
   * @param {number} o.concurrency loops
   * @param {number} o.pauseMs think time after each answered request
   * @param {number} o.timeoutMs a request with no answer by then is status 'timeout'
   */
  constructor({ port, inputs, reference, timeline, concurrency, pauseMs, timeoutMs }) {
    Object.assign(this, { port, inputs, reference, timeline, concurrency, pauseMs, timeoutMs });
    this.records = [];
    this.running = false;
    this.loops = [];
    this.agent = keepAliveAgent(concurrency);
  }

  start() {
    this.running = true;
    this.loops = Array.from({ length: this.concurrency }, (_, lane) => this.loop(lane));
  }

  /** Stops issuing requests and waits for those in flight (each bounded by timeoutMs). */
  async stop() {
    this.running = false;
    await Promise.all(this.loops);
    this.agent.destroy();
  }

  async loop(lane) {
    for (let n = lane; this.running; n += this.concurrency) {
      const inputIndex = n % this.inputs.length;
      const input = this.inputs[inputIndex];
      const start = Date.now();
      const answer = await httpRequest({
        port: this.port,
        method: 'POST',
        path: '/v1/rerank',
        body: { query: input.query, documents: input.documents },
        timeoutMs: this.timeoutMs,
        agent: this.agent,
      });
      const record = { start, end: Date.now(), status: answer.status, ms: answer.ms, window: this.timeline.at(start), input: inputIndex };
      if (answer.status === 200) {
        const reason = resultDiffers(answer.body?.results, this.reference[inputIndex]);
        if (reason) record.differs = reason;
      } else if (answer.body?.error?.code) {
        record.code = answer.body.error.code;
      } else if (answer.error) {
        record.code = answer.error;
      }
      this.records.push(record);
      if (!this.running) break;
      if (answer.status === 200) await sleep(this.pauseMs);
      else if (answer.status === 429 || answer.status === 503) await sleep(retryAfterMs(answer.headers, { max: 1000 }));
      else if (answer.status !== 'timeout') await sleep(100);
    }
  }

  /** End time of the first correct 200 among requests started at or after `t`. */
  firstSuccessAfter(t) {
    let first;
    for (const r of this.records) if (r.start >= t && r.status === 200 && !r.differs && (first === undefined || r.end < first)) first = r.end;
    return first;
  }
}
