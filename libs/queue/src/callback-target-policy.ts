import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { CallbackTargetError } from './callback-target-error.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Address, number];

/** Every address a host name resolves to, as `dns.lookup(name, { all: true })` gives them. */
export type HostLookup = (hostname: string) => Promise<readonly LookupAddress[]>;

/** The resolver connections use (getaddrinfo: /etc/hosts, then DNS), so a check sees what a connect would. */
export const systemLookup: HostLookup = (hostname) => lookup(hostname, { all: true, verbatim: true });

export interface CallbackTargetPolicyOptions {
  /**
   * Receivers inside the operator's network that webhooks may reach anyway (WEBHOOK_ALLOWED_HOSTS):
   * host names (exact, any address they resolve to is then accepted), IP addresses, CIDR ranges.
   * Default none.
   */
  allowedHosts?: readonly string[];
  /** Resolves host names. Default `systemLookup`; tests inject one to stage DNS rebinding. */
  lookup?: HostLookup;
}

export interface AllowedHosts {
  /** Lower case, without a trailing dot, punycode: as WHATWG URL parsing leaves a host. */
  names: ReadonlySet<string>;
  ranges: readonly Range[];
}

// Instance metadata services hand out the machine's cloud credentials to whoever asks, so they are
// named in messages as what they are, and refused even where they sit outside the special ranges.
const METADATA_ADDRESSES = new Set([
  '169.254.169.254', // AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack
  '169.254.170.2', // AWS ECS task credentials
  '100.100.100.200', // Alibaba Cloud
  '168.63.129.16', // Azure WireServer: a public address that only the host answers
  '192.0.0.192', // Oracle Cloud Classic
  'fd00:ec2::254', // AWS, IPv6
  'fd20:ce::254', // GCP, IPv6
]);
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal']);

const RANGE_REASONS: Record<string, string> = {
  unspecified: 'an unspecified address',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  private: 'a private address (RFC 1918)',
  reserved: 'a reserved or documentation address',
  carrierGradeNat: 'a carrier-grade NAT address (100.64.0.0/10)',
  uniqueLocal: 'a unique-local address (fc00::/7)',
  deprecatedSiteLocal: 'a site-local address (fec0::/10)',
  rfc6052: 'a local-use NAT64 address (64:ff9b:1::/48)',
  '6to4': 'a 6to4 tunnel address (2002::/16)',
  teredo: 'a Teredo tunnel address (2001::/32)',
};

const GLOBAL_UNICAST_V6: Range = ipaddr.IPv6.parseCIDR('2000::/3');
const NAT64_WELL_KNOWN: Range = ipaddr.IPv6.parseCIDR('64:ff9b::/96');

function embeddedIPv4(parts: readonly number[]): ipaddr.IPv4 {
  return new ipaddr.IPv4([parts[6]! >> 8, parts[6]! & 0xff, parts[7]! >> 8, parts[7]! & 0xff]);
}

/**
 * IPv6 forms that carry an IPv4 address a dual-stack socket or a NAT64 gateway would reach: the
 * IPv4 address decides, so ::ffff:127.0.0.1 is loopback and 64:ff9b::8.8.8.8 is public.
 */
function ipv4Inside(address: ipaddr.IPv6): { form: string; ipv4: ipaddr.IPv4 } | undefined {
  const { parts } = address;
  const range = address.range() as string;
  if (range === 'ipv4Mapped') return { form: 'the IPv4-mapped form', ipv4: address.toIPv4Address() };
  if (range === 'rfc6145') return { form: 'the IPv4-translated form', ipv4: embeddedIPv4(parts) };
  if (address.match(NAT64_WELL_KNOWN)) return { form: 'the NAT64 form', ipv4: embeddedIPv4(parts) };
  const compatible = parts.slice(0, 6).every((part) => part === 0) && !(parts[6] === 0 && parts[7]! <= 1);
  if (compatible) return { form: 'the IPv4-compatible form', ipv4: embeddedIPv4(parts) };
  return undefined;
}

/** Why an address is inside someone's network, or undefined for a public unicast address. */
function refusalReason(address: Address): string | undefined {
  if (METADATA_ADDRESSES.has(address.toString())) return 'a cloud metadata address';
  if (address.kind() === 'ipv6') {
    const v6 = address as ipaddr.IPv6;
    const inside = ipv4Inside(v6);
    if (inside) {
      const reason = refusalReason(inside.ipv4);
      return reason && `${inside.form} of ${inside.ipv4.toString()}, ${reason}`;
    }
    const range = v6.range() as string;
    if (range !== 'unicast') return RANGE_REASONS[range] ?? `a special-purpose address (${range})`;
    // ipaddr.js calls anything it has no name for unicast; only 2000::/3 is routed on the Internet.
    return v6.match(GLOBAL_UNICAST_V6) ? undefined : 'an address outside global unicast space (2000::/3)';
  }
  const range = (address as ipaddr.IPv4).range() as string;
  if (range === 'unicast') return undefined;
  return RANGE_REASONS[range] ?? `a special-purpose address (${range})`;
}

function nameReason(name: string): string | undefined {
  if (METADATA_NAMES.has(name)) return 'a cloud metadata name';
  // RFC 6761: localhost and every name under it mean this machine, whatever a resolver says.
  if (name === 'localhost' || name.endsWith('.localhost')) return 'a loopback name';
  return undefined;
}

function withoutBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function comparableName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function entryProblem(entry: string, index: number, problem: string): CallbackTargetError {
  return new CallbackTargetError('invalid_allowed_host', `${JSON.stringify(entry)} (entry ${index + 1}) ${problem}`);
}

function parseEntry(entry: string, index: number): { name: string } | { range: Range } {
  const notBare = () => entryProblem(entry, index, 'is not a bare host name (no scheme, port, path or user)');
  if (entry.includes('://') || /[@?#\\]/.test(entry)) throw notBare();
  const literal = withoutBrackets(entry);
  if (literal.includes('/')) {
    const valid = ipaddr.IPv4.isValidCIDRFourPartDecimal(literal) || (literal.includes(':') && ipaddr.IPv6.isValidCIDR(literal));
    if (!valid) throw entryProblem(entry, index, 'is not a CIDR range such as 10.0.0.0/8 or fd00::/8');
    return { range: ipaddr.parseCIDR(literal) };
  }
  if (ipaddr.IPv4.isValidFourPartDecimal(literal) || (literal.includes(':') && ipaddr.IPv6.isValid(literal))) {
    const address = ipaddr.parse(literal);
    return { range: [address, address.kind() === 'ipv4' ? 32 : 128] };
  }
  if (entry.includes('*')) throw entryProblem(entry, index, 'has a wildcard; list each host name, or a CIDR range of their addresses');
  if (entry.includes(':')) throw notBare();
  let url: URL;
  try {
    url = new URL(`http://${entry}/`);
  } catch {
    throw entryProblem(entry, index, 'is not a host name, an IP address or a CIDR range');
  }
  const name = comparableName(url.hostname);
  // URL parsing reads 127.1 or 0x7f000001 as 127.0.0.1: make the operator write what they mean.
  if (isIP(name)) throw entryProblem(entry, index, `is a short or numeric form of ${name}; write ${name}`);
  return { name };
}

/**
 * The allow-list in the form checks use. Throws CallbackTargetError `invalid_allowed_host` naming
 * the first bad entry.
 */
export function parseAllowedHosts(entries: readonly string[]): AllowedHosts {
  const names = new Set<string>();
  const ranges: Range[] = [];
  entries.forEach((raw, index) => {
    const parsed = parseEntry(raw.trim(), index);
    if ('name' in parsed) names.add(parsed.name);
    else ranges.push(parsed.range);
  });
  return { names, ranges };
}

/**
 * Invariant 8: a webhook never reaches into the operator's network because a client named a place
 * there. The API checks a callback_url with `check` when the job is submitted; the dispatcher runs
 * every connection's lookup through `addressesOf`, so the address checked is the address connected
 * to even when DNS answers differently later (rebinding). A host is refused when any of its
 * addresses is: one bad answer among good ones is an attempt, not an accident.
 */
export class CallbackTargetPolicy {
  private readonly allowed: AllowedHosts;
  private readonly lookup: HostLookup;

  constructor(options: CallbackTargetPolicyOptions = {}) {
    this.allowed = parseAllowedHosts(options.allowedHosts ?? []);
    this.lookup = options.lookup ?? systemLookup;
  }

  /** Resolves when `url` is an http(s) URL whose host may be reached; the parsed URL. */
  async check(url: string): Promise<URL> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (error) {
      throw new CallbackTargetError('invalid_url', 'is not a valid URL', { cause: error });
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new CallbackTargetError('invalid_url', `must be an http:// or https:// URL, got ${parsed.protocol}//`);
    }
    // Webhooks are authenticated by their signature; a password in the URL would sit in Redis and
    // in logs in clear text.
    if (parsed.username !== '' || parsed.password !== '') {
      throw new CallbackTargetError('credentials', 'must not contain a user name or password (deliveries are signed instead)');
    }
    if (parsed.hostname === '') throw new CallbackTargetError('invalid_url', 'has no host');
    await this.addressesOf(parsed.hostname);
    return parsed;
  }

  /**
   * The addresses a connection to `host` may use: all of its addresses, or a CallbackTargetError.
   * `host` is a name, an IP address, or a bracketed IPv6 address as URLs write it.
   */
  async addressesOf(host: string): Promise<LookupAddress[]> {
    const bare = withoutBrackets(host);
    const family = isIP(bare);
    if (family !== 0) {
      this.checkAddress(bare);
      return [{ address: bare, family }];
    }
    const name = comparableName(bare);
    const allowedName = this.allowed.names.has(name);
    const forbidden = allowedName ? undefined : nameReason(name);
    if (forbidden) throw new CallbackTargetError('forbidden_name', `host ${bare} is ${forbidden}`);
    const addresses = await this.resolve(bare);
    if (!allowedName) {
      for (const { address } of addresses) this.checkAddress(address, bare);
    }
    return addresses;
  }

  /** Throws unless `address` (an IP literal) is public or allowed; `name` is the host it came from. */
  checkAddress(address: string, name?: string): void {
    let parsed: Address;
    try {
      parsed = ipaddr.parse(address);
    } catch (error) {
      throw new CallbackTargetError('forbidden_address', `host ${name ?? address} has the unreadable address ${address}`, { cause: error });
    }
    if (this.isAllowed(parsed)) return;
    const reason = refusalReason(parsed);
    if (reason === undefined) return;
    const where = name === undefined ? `host ${parsed.kind() === 'ipv6' ? `[${address}]` : address} is` : `host ${name} resolves to ${address},`;
    throw new CallbackTargetError('forbidden_address', `${where} ${reason}`);
  }

  private isAllowed(address: Address): boolean {
    const forms: Address[] = [address];
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) forms.push((address as ipaddr.IPv6).toIPv4Address());
    return this.allowed.ranges.some(([network, bits]) => forms.some((form) => form.kind() === network.kind() && form.match(network, bits)));
  }

  private async resolve(name: string): Promise<LookupAddress[]> {
    let addresses: readonly LookupAddress[];
    try {
      addresses = await this.lookup(name);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new CallbackTargetError('unresolvable', `host ${name} does not resolve (${code})`, { cause: error });
    }
    if (addresses.length === 0) throw new CallbackTargetError('unresolvable', `host ${name} does not resolve (no addresses)`);
    return [...addresses];
  }
}
