import type { FastifyInstance } from 'fastify';
import { Errors } from '@rerank-pool/contracts';
import type { ModelRegistry } from './model-registry.js';

/** Requests in flight when the API is told to stop get this long to finish by themselves. */
const IN_FLIGHT_GRACE_MS = 3000;
/** Then whatever connection is still open (a slow upload, an idle client) gets this long before it is cut. */
const CONNECTION_GRACE_MS = 1000;
/** How long after SIGTERM an API process has surely exited: the graces, then bounded closes of its connections. */
export const API_STOP_BOUND_MS = IN_FLIGHT_GRACE_MS + CONNECTION_GRACE_MS + 4000;

/**
 * Makes `app.close()` end in bounded time: Fastify waits for every open request before its
 * onClose hooks run, and a sync request may wait 30 s for its job or an upload stream for ever.
 * After the grace, waiting requests are answered 503 with their job id (the job goes on and can
 * be polled) and the remaining connections are closed. Closing the Redis connections is bounded
 * by the libraries themselves.
 */
export function installBoundedClose(app: FastifyInstance, registry: ModelRegistry): void {
  const timers: NodeJS.Timeout[] = [];
  const later = (ms: number, action: () => void) => {
    const timer = setTimeout(action, ms);
    timer.unref();
    timers.push(timer);
  };
  app.addHook('preClose', async () => {
    later(IN_FLIGHT_GRACE_MS, () => registry.abandonWaits((jobId) => Errors.shuttingDown(jobId)));
    later(IN_FLIGHT_GRACE_MS + CONNECTION_GRACE_MS, () => app.server.closeAllConnections());
  });
  app.addHook('onClose', async () => {
    for (const timer of timers) clearTimeout(timer);
  });
}
