// The run's one JSON summary and its verdict: what was lost, duplicated or differed, and how
// each fault window looked to clients.
import { sameResults } from './workload.mjs';
import { countBy, percentile, seconds } from './util.mjs';

function latency(records) {
  const ms = records.filter((r) => typeof r.status === 'number').map((r) => r.ms).sort((a, b) => a - b);
  if (ms.length === 0) return null;
  return { p50_ms: Math.round(percentile(ms, 50)), p95_ms: Math.round(percentile(ms, 95)), max_ms: Math.round(ms[ms.length - 1]) };
}

/** What synchronous clients saw in one window. */
function syncWindow(records) {
  return {
    sync_requests: records.length,
    sync_by_status: countBy(records, (r) => r.status),
    sync_latency: latency(records),
    ...(records.some((r) => r.status !== 200) && { sync_failures_by_code: countBy(records.filter((r) => r.status !== 200), (r) => `${r.status}:${r.code ?? '-'}`) }),
    ...(records.some((r) => r.differs) && { sync_results_differing: records.filter((r) => r.differs).length }),
  };
}

/** Requests sent before the fault and answered after it: how they ended, the longest wait. */
function inFlightAt(records, at) {
  const held = records.filter((r) => r.start < at && r.end > at);
  if (held.length === 0) return { count: 0 };
  return { count: held.length, by_status: countBy(held, (r) => r.status), longest_s: seconds(Math.max(...held.map((r) => r.end - at))) };
}

function jobsReport(asyncLoad, receiverByJob) {
  const jobs = [...asyncLoad.jobs.values()];
  const byFinal = countBy(jobs, (j) => j.final?.status ?? 'never_polled');
  let differing = 0;
  let twoResults = 0;
  const examples = [];
  for (const job of jobs) {
    if (job.final?.differs) {
      differing++;
      if (examples.length < 3) examples.push(`${job.id}: ${job.final.differs}`);
    }
    // Every result a client saw for this job: the poll's and each webhook delivery's.
    const seen = [job.final?.results, ...(receiverByJob.get(job.id)?.results ?? [])].filter(Array.isArray);
    if (seen.some((r) => !sameResults(r, seen[0]))) twoResults++;
  }
  const lost = byFinal.not_found ?? 0;
  const terminal = (byFinal.completed ?? 0) + (byFinal.failed ?? 0) + (byFinal.cancelled ?? 0);
  return {
    submitted: asyncLoad.next,
    accepted: jobs.length,
    not_accepted: asyncLoad.notAccepted.length,
    ...(asyncLoad.notAccepted.length > 0 && { not_accepted_last_answer: countBy(asyncLoad.notAccepted, (s) => s.last) }),
    skipped_ticks: asyncLoad.skippedTicks,
    submit_attempts_by_status: countBy(asyncLoad.attempts, (a) => a.status),
    completed: byFinal.completed ?? 0,
    failed: byFinal.failed ?? 0,
    cancelled: byFinal.cancelled ?? 0,
    lost,
    unfinished: jobs.length - terminal - lost,
    ...(jobs.length - terminal - lost > 0 && { unfinished_by_status: Object.fromEntries(Object.entries(byFinal).filter(([s]) => !['completed', 'failed', 'cancelled', 'not_found'].includes(s))) }),
    results_differing: differing,
    two_different_results: twoResults,
    ...(examples.length > 0 && { differing_examples: examples }),
    ...(byFinal.failed > 0 && { failure_codes: countBy(jobs.filter((j) => j.final?.status === 'failed'), (j) => j.final.error?.code ?? 'unknown') }),
  };
}

function webhooksReport(asyncLoad, receiver, byJob) {
  const expectedJobs = [...asyncLoad.jobs.values()].filter((j) => j.final?.status === 'completed' || j.final?.status === 'failed');
  const delivered = expectedJobs.filter((j) => byJob.has(j.id));
  const messages = [...receiver.messages.values()];
  const deliveries = messages.reduce((n, m) => n + m.deliveries, 0);
  const delays = delivered
    .filter((j) => Number.isFinite(j.final.finishedAt))
    .map((j) => byJob.get(j.id).first - j.final.finishedAt)
    .sort((a, b) => a - b);
  return {
    expected: expectedJobs.length,
    delivered_unique: delivered.length,
    lost: expectedJobs.length - delivered.length,
    deliveries,
    message_ids: messages.length,
    duplicated: deliveries - messages.length,
    duplicated_ids: messages.filter((m) => m.deliveries > 1).length,
    jobs_with_several_ids: [...byJob.values()].filter((e) => e.ids.length > 1).length,
    unexpected_jobs: [...byJob.keys()].filter((id) => !asyncLoad.jobs.has(id)).length,
    bad_signature: receiver.badSignature,
    ...(receiver.badExamples.length > 0 && { bad_signature_examples: receiver.badExamples }),
    malformed: receiver.malformed,
    delay_after_finish: delays.length > 0 ? { p50_s: seconds(percentile(delays, 50)), p95_s: seconds(percentile(delays, 95)), max_s: seconds(delays[delays.length - 1]) } : null,
  };
}

/** Builds the summary object and the list of problems that make the exit code non-zero. */
export function buildSummary({ config, timeline, faults, syncLoad, asyncLoad, receiver, batch, startedAt, aborted }) {
  const records = syncLoad?.records ?? [];
  const inWindow = (name) => records.filter((r) => r.window === name);
  const faultReports = faults.map((f) => {
    const at = timeline.t0 + f.at_s * 1000;
    const window = timeline.get(f.name);
    return {
      ...f,
      window_s: window ? seconds((window.end ?? Date.now()) - window.start) : null,
      ...syncWindow(inWindow(f.name)),
      sync_in_flight_at_fault: inFlightAt(records, at),
      async_submits_by_status: countBy(asyncLoad?.attempts.filter((a) => a.window === f.name) ?? [], (a) => a.status),
    };
  });
  const byJob = receiver?.byJob() ?? new Map();
  const jobs = asyncLoad ? jobsReport(asyncLoad, byJob) : null;
  const webhooks = asyncLoad && receiver ? webhooksReport(asyncLoad, receiver, byJob) : null;
  const sync = {
    requests: records.length,
    by_status: countBy(records, (r) => r.status),
    results_differing: records.filter((r) => r.differs).length,
    ...(records.some((r) => r.differs) && { differing_examples: records.filter((r) => r.differs).slice(0, 3).map((r) => r.differs) }),
    latency_ok: latency(records.filter((r) => r.status === 200)),
  };

  const problems = [];
  if (aborted) problems.push(`run aborted: ${aborted}`);
  if (jobs?.lost) problems.push(`${jobs.lost} accepted jobs lost (404 at the end)`);
  if (jobs?.unfinished) problems.push(`${jobs.unfinished} accepted jobs not finished by the end`);
  if (jobs?.results_differing) problems.push(`${jobs.results_differing} job results differ from the reference`);
  if (jobs?.two_different_results) problems.push(`${jobs.two_different_results} jobs showed two different results`);
  if (sync.results_differing) problems.push(`${sync.results_differing} sync results differ from the reference`);
  if (webhooks?.lost) problems.push(`${webhooks.lost} webhooks lost`);
  if (webhooks?.bad_signature) problems.push(`${webhooks.bad_signature} webhook deliveries with a bad signature`);
  if (batch && !batch.exact) problems.push(`batch not exact${batch.problem ? `: ${batch.problem}` : ''}`);
  const notes = [];
  for (const f of faultReports) if (!f.recovered) notes.push(`${f.name} did not recover within its window`);
  if (webhooks?.duplicated) notes.push(`${webhooks.duplicated} webhook redeliveries (same id; allowed: at least once)`);
  if (webhooks?.jobs_with_several_ids) notes.push(`${webhooks.jobs_with_several_ids} jobs delivered under several webhook ids`);
  if (jobs?.not_accepted) notes.push(`${jobs.not_accepted} submissions never accepted (not counted as lost)`);

  const baseline = timeline.get('baseline');
  return {
    summary: {
      ok: problems.length === 0,
      problems,
      notes,
      config,
      ...(baseline && { baseline: { window_s: seconds((baseline.end ?? Date.now()) - baseline.start), ...syncWindow(inWindow('baseline')) } }),
      faults: faultReports,
      sync,
      jobs,
      webhooks,
      batch,
      duration_s: seconds(Date.now() - startedAt),
    },
    problems,
  };
}
