// Reads BullMQ's own keys to see which jobs a worker process held: each active job's hash has
// `pb` (processedBy), the worker's name, which for `rerank-pool worker` is host-pid-random.
// Used to time how long a stopped worker's jobs take to finish elsewhere.
import { Redis } from 'ioredis';

export class RedisInspector {
  constructor({ port, prefix }) {
    this.prefix = prefix;
    this.redis = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      commandTimeout: 2000,
      connectTimeout: 2000,
      enableOfflineQueue: true,
      retryStrategy: () => 200,
    });
    this.redis.on('error', () => undefined);
  }

  async close() {
    this.redis.disconnect();
  }

  /** Active jobs of every queue whose `pb` starts with `workerPrefix`: [{queue, id, key}]. */
  async activeJobsOf(workerPrefix) {
    const jobs = [];
    let cursor = '0';
    const activeLists = [];
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:*:active`, 'COUNT', 200);
      cursor = next;
      activeLists.push(...keys);
    } while (cursor !== '0');
    // Other keys end in `:active` too (the batches' set of running batches): lists only.
    const types = activeLists.length > 0 ? await activeLists.reduce((p, key) => p.type(key), this.redis.pipeline()).exec() : [];
    for (const [i, list] of activeLists.entries()) {
      if (types[i]?.[1] !== 'list') continue;
      const queue = list.slice(this.prefix.length + 1, -':active'.length);
      const ids = await this.redis.lrange(list, 0, -1);
      if (ids.length === 0) continue;
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hget(`${this.prefix}:${queue}:${id}`, 'pb');
      const owners = await pipeline.exec();
      ids.forEach((id, i) => {
        const pb = owners[i]?.[1];
        if (typeof pb === 'string' && pb.startsWith(workerPrefix)) jobs.push({ queue, id, key: `${this.prefix}:${queue}:${id}` });
      });
    }
    return jobs;
  }

  /**
   * How many of `jobs` are finished (finishedOn set, or the hash gone: a batch line's job is removed
   * once its line is settled; a lost job shows up in the final poll, not here) and
   * by whom: {finished, pending, finishedBy: {worker: n}}. Throws while Redis does not answer.
   */
  async progress(jobs) {
    if (jobs.length === 0) return { finished: 0, pending: 0, finishedBy: {} };
    const pipeline = this.redis.pipeline();
    for (const job of jobs) pipeline.hmget(job.key, 'finishedOn', 'pb', 'timestamp');
    const rows = await pipeline.exec();
    let finished = 0;
    const finishedBy = {};
    rows.forEach(([error, values]) => {
      if (error) throw error;
      const [finishedOn, pb, timestamp] = values;
      const gone = timestamp === null;
      if (finishedOn !== null || gone) {
        finished++;
        const by = gone ? 'gone' : (pb ?? 'unknown');
        finishedBy[by] = (finishedBy[by] ?? 0) + 1;
      }
    });
    return { finished, pending: jobs.length - finished, finishedBy };
  }
}
