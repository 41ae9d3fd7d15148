import type { FastifyReply } from 'fastify';

/**
 * Aborts when the client disconnects before its response was written: nobody is left to read
 * it, so the work done for it can stop. The response's 'close' comes either when the connection
 * goes away or after the response was written; only the first means the client left. (The
 * request's own 'close' fires as soon as its body has been read, so it cannot tell.)
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  const response = reply.raw;
  const controller = new AbortController();
  const onClose = () => {
    if (!response.writableFinished) controller.abort(new Error('the client closed the connection before the response'));
  };
  // A client that left while the body was being read or validated is gone already.
  if (response.destroyed) onClose();
  else response.once('close', onClose);
  return controller.signal;
}
