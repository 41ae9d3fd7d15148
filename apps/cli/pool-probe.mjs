import { InferencePool } from '@rerank-pool/model-runtime';
import { DynamicBatcher } from '@rerank-pool/batcher';
import { generateWorkload } from '@rerank-pool/bench';
const [threads, intra, mode] = process.argv.slice(2).map((x, i) => i < 2 ? Number(x) : x);
const modelDir = '/work/main/.rerank-pool/bench/tinybert-l2';
const pool = await InferencePool.open({ modelDir, modelId: 'tb', threads, intraOpThreads: intra, executionProvider: 'cpu', maxBatchTokens: 2048 });
const batcher = new DynamicBatcher((rows) => pool.infer(rows), { maxBatchTokens: 2048, maxWaitMs: 5, maxInflight: threads * 2, parallelism: threads, numLabels: 1 });
const workload = generateWorkload({ queries: 240, docs: 30, seed: 1 });
let enc = 0, inf = 0;
async function one(r) { const t0 = performance.now(); const p = await pool.encode(r.query, r.documents); const t1 = performance.now(); enc += t1 - t0; await batcher.submit(p, { priority: 'interactive' }); inf += performance.now() - t1; }
async function run(list) { let i = 0; await Promise.all(Array.from({ length: 32 }, async () => { while (i < list.length) await one(list[i++]); })); }
await run(workload.slice(0, 8));
enc = 0; inf = 0;
const t = performance.now(); await run(workload); const s = (performance.now() - t) / 1000;
console.log(`${threads}x${intra}: ${(7200 / s).toFixed(1)} pairs/s  (sum encode ${enc.toFixed(0)} ms, sum batch wait ${inf.toFixed(0)} ms)`);
if (mode === 'tok') { const t2 = performance.now(); for (const r of workload) await pool.encode(r.query, r.documents); console.log('encode only serial', ((performance.now() - t2)/7200).toFixed(3), 'ms/pair'); }
await batcher.close(); await pool.close();
