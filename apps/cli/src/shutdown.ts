/**
 * Runs `stop` once on SIGINT or SIGTERM; a second signal exits at once, for the operator
 * who does not want to wait for the drain.
 */
export function onShutdown(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`rerank-pool: ${signal} again, exiting without draining\n`);
        process.exit(130);
      }
      stopping = true;
      process.stderr.write(`rerank-pool: ${signal}, draining (send it again to exit now)\n`);
      stop().then(resolve, (error: Error) => {
        process.stderr.write(`rerank-pool: shutdown failed: ${error.message}\n`);
        resolve();
      });
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
