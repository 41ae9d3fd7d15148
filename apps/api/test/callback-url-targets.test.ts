import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';

const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const body = { query: 'q', documents: ['30 a', '90 b'] };
const INSIDE = "; webhooks are not sent into the operator's network unless the operator lists the host in WEBHOOK_ALLOWED_HOSTS";

/** Every class of target inside someone's network, each as a client could write it. */
const refused: { target: string; url: string; message: string }[] = [
  { target: 'the AWS/GCP/Azure metadata address', url: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/', message: 'host 169.254.169.254 is a cloud metadata address' },
  { target: 'the AWS IPv6 metadata address', url: 'http://[fd00:ec2::254]/latest/meta-data/', message: 'host [fd00:ec2::254] is a cloud metadata address' },
  { target: 'the GCP metadata name', url: 'http://metadata.google.internal/computeMetadata/v1/', message: 'host metadata.google.internal is a cloud metadata name' },
  { target: 'the GCP metadata name with a trailing dot', url: 'http://Metadata.Google.Internal./computeMetadata/v1/', message: 'host metadata.google.internal. is a cloud metadata name' },
  { target: 'the Alibaba metadata address', url: 'http://100.100.100.200/latest/meta-data/', message: 'host 100.100.100.200 is a cloud metadata address' },
  { target: 'the Azure WireServer', url: 'http://168.63.129.16/machine?comp=goalstate', message: 'host 168.63.129.16 is a cloud metadata address' },
  { target: '10/8', url: 'http://10.0.0.1/hook', message: 'host 10.0.0.1 is a private address (RFC 1918)' },
  { target: '172.16/12', url: 'http://172.31.255.254:8443/hook', message: 'host 172.31.255.254 is a private address (RFC 1918)' },
  { target: '192.168/16', url: 'https://192.168.1.1/hook', message: 'host 192.168.1.1 is a private address (RFC 1918)' },
  { target: 'CGNAT 100.64/10', url: 'http://100.64.0.1/hook', message: 'host 100.64.0.1 is a carrier-grade NAT address (100.64.0.0/10)' },
  { target: 'link-local IPv4', url: 'http://169.254.1.1/hook', message: 'host 169.254.1.1 is a link-local address' },
  { target: '0.0.0.0', url: 'http://0.0.0.0:8080/v1/jobs', message: 'host 0.0.0.0 is an unspecified address' },
  { target: '0 (0.0.0.0 in short form)', url: 'http://0:8080/v1/jobs', message: 'host 0.0.0.0 is an unspecified address' },
  { target: '127.0.0.1 (Redis)', url: 'http://127.0.0.1:6379/', message: 'host 127.0.0.1 is a loopback address' },
  { target: '127.0.0.2', url: 'http://127.0.0.2:8080/', message: 'host 127.0.0.2 is a loopback address' },
  { target: 'localhost', url: 'http://localhost:8080/v1/jobs', message: 'host localhost is a loopback name' },
  { target: 'a name under .localhost', url: 'http://api.localhost/v1/jobs', message: 'host api.localhost is a loopback name' },
  { target: 'loopback as 127.1', url: 'http://127.1:8080/', message: 'host 127.0.0.1 is a loopback address' },
  { target: 'loopback in decimal', url: 'http://2130706433:8080/', message: 'host 127.0.0.1 is a loopback address' },
  { target: 'loopback in hex', url: 'http://0x7f000001:8080/', message: 'host 127.0.0.1 is a loopback address' },
  { target: 'loopback in dotted hex', url: 'http://0x7f.0.0.1:8080/', message: 'host 127.0.0.1 is a loopback address' },
  { target: 'loopback in octal', url: 'http://0177.0.0.1:8080/', message: 'host 127.0.0.1 is a loopback address' },
  { target: 'loopback percent-encoded', url: 'http://%31%32%37.0.0.1:8080/', message: 'host 127.0.0.1 is a loopback address' },
  { target: 'IPv6 loopback', url: 'http://[::1]:8080/', message: 'host [::1] is a loopback address' },
  { target: 'IPv6 loopback written in full', url: 'http://[0:0:0:0:0:0:0:1]:8080/', message: 'host [::1] is a loopback address' },
  { target: 'IPv6 unspecified', url: 'http://[::]:8080/', message: 'host [::] is an unspecified address' },
  { target: 'IPv4-mapped loopback', url: 'http://[::ffff:127.0.0.1]:6379/', message: 'host [::ffff:7f00:1] is the IPv4-mapped form of 127.0.0.1, a loopback address' },
  { target: 'IPv4-mapped metadata', url: 'http://[::ffff:a9fe:a9fe]/', message: 'host [::ffff:a9fe:a9fe] is the IPv4-mapped form of 169.254.169.254, a cloud metadata address' },
  { target: 'IPv4-compatible loopback', url: 'http://[::127.0.0.1]/', message: 'host [::7f00:1] is the IPv4-compatible form of 127.0.0.1, a loopback address' },
  { target: 'NAT64 of a private address', url: 'http://[64:ff9b::10.1.2.3]/', message: 'host [64:ff9b::a01:203] is the NAT64 form of 10.1.2.3, a private address (RFC 1918)' },
  { target: 'IPv6 link-local', url: 'http://[fe80::1]/', message: 'host [fe80::1] is a link-local address' },
  { target: 'IPv6 unique-local', url: 'http://[fd12:3456::1]/', message: 'host [fd12:3456::1] is a unique-local address (fc00::/7)' },
  { target: 'IPv6 site-local', url: 'http://[fec0::1]/', message: 'host [fec0::1] is a site-local address (fec0::/10)' },
  { target: 'IPv4 multicast', url: 'http://224.0.0.251/', message: 'host 224.0.0.251 is a multicast address' },
  { target: 'IPv6 multicast', url: 'http://[ff02::1]/', message: 'host [ff02::1] is a multicast address' },
  { target: 'the broadcast address', url: 'http://255.255.255.255/', message: 'host 255.255.255.255 is the broadcast address' },
  { target: 'reserved 240/4', url: 'http://240.0.0.1/', message: 'host 240.0.0.1 is a reserved or documentation address' },
  { target: 'documentation 192.0.2/24', url: 'http://192.0.2.10/', message: 'host 192.0.2.10 is a reserved or documentation address' },
  { target: 'IPv6 documentation', url: 'http://[2001:db8::1]/', message: 'host [2001:db8::1] is a reserved or documentation address' },
  { target: 'a 6to4 address', url: 'http://[2002:7f00:1::1]/', message: 'host [2002:7f00:1::1] is a 6to4 tunnel address (2002::/16)' },
];

describe('when POST /v1/jobs names a callback_url inside the operator network', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await createHarness({ WEBHOOK_SECRET });
  });

  afterAll(() => harness.close());

  it.each(refused)('should answer 400 on callback_url for $target and enqueue nothing', async ({ url, message }) => {
    const response = await harness.app.inject({ method: 'POST', url: '/v1/jobs', payload: { ...body, callback_url: url } });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: { code: 'invalid_request', field: 'callback_url', message: `callback_url ${message}${INSIDE}` } });
    expect(await harness.jobCount()).toBe(0);
  });

  it('should answer 400 for a host name that does not resolve', async () => {
    const response = await harness.app.inject({ method: 'POST', url: '/v1/jobs', payload: { ...body, callback_url: 'https://no-such-host.invalid/hook' } });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toEqual({
      code: 'invalid_request',
      field: 'callback_url',
      message: 'callback_url host no-such-host.invalid does not resolve (ENOTFOUND)',
    });
    expect(await harness.jobCount()).toBe(0);
  });

  it('should answer 400 for a URL with a user name or password', async () => {
    const response = await harness.app.inject({ method: 'POST', url: '/v1/jobs', payload: { ...body, callback_url: 'https://user:secret@8.8.8.8/hook' } });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toEqual({
      code: 'invalid_request',
      field: 'callback_url',
      message: 'callback_url must not contain a user name or password (deliveries are signed instead)',
    });
    expect(await harness.jobCount()).toBe(0);
  });

  it('should accept public IPv4 and IPv6 addresses, and a NAT64 form of a public one', async () => {
    for (const url of ['http://8.8.8.8/hook', 'https://[2606:4700:4700::1111]:8443/hook', 'http://[64:ff9b::8.8.8.8]/hook']) {
      const response = await harness.app.inject({ method: 'POST', url: '/v1/jobs', payload: { ...body, callback_url: url } });
      expect(response.statusCode, url).toBe(202);
    }
    expect(await harness.jobCount()).toBe(3);
  });
});

describe('when WEBHOOK_ALLOWED_HOSTS lists internal receivers', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await createHarness({ WEBHOOK_SECRET, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1, localhost, 10.20.0.0/16, [fd00:ec2::254]' });
  });

  afterAll(() => harness.close());

  it('should accept exactly the listed names, addresses and ranges', async () => {
    const accepted = ['http://127.0.0.1:9/hook', 'http://2130706433:9/hook', 'http://localhost:9/hook', 'http://10.20.3.4/hook', 'http://[fd00:ec2::254]/'];
    for (const url of accepted) {
      const response = await harness.app.inject({ method: 'POST', url: '/v1/jobs', payload: { ...body, callback_url: url } });
      expect(response.statusCode, url).toBe(202);
    }
    expect(await harness.jobCount()).toBe(accepted.length);
  });

  it('should still refuse what the list does not name', async () => {
    for (const [url, message] of [
      ['http://127.0.0.2:9/hook', 'host 127.0.0.2 is a loopback address'],
      ['http://10.21.0.1/hook', 'host 10.21.0.1 is a private address (RFC 1918)'],
      ['http://169.254.169.254/latest/meta-data/', 'host 169.254.169.254 is a cloud metadata address'],
      ['http://[::1]:9/hook', 'host [::1] is a loopback address'],
    ] as const) {
      const response = await harness.app.inject({ method: 'POST', url: '/v1/jobs', payload: { ...body, callback_url: url } });
      expect(response.statusCode, url).toBe(400);
      expect(response.json().error.message).toBe(`callback_url ${message}${INSIDE}`);
    }
  });
});
