// Container health probe: `node infra/docker/http-probe.mjs [port] [path]` exits 0 on a 2xx answer;
// port defaults to $PORT (the API's), path to /healthz.
// The slim and CUDA images carry no curl or wget; Node's own fetch keeps them that way.
const [port = process.env.PORT ?? '8080', path = '/healthz'] = process.argv.slice(2);

try {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(4000) });
  process.exitCode = response.ok ? 0 : 1;
} catch {
  process.exitCode = 1;
}
