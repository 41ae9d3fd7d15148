import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import type { CallbackTargetPolicy } from './callback-target-policy.js';

function wantedFamily(family: number | string | undefined): number {
  return family === 'IPv4' ? 4 : family === 'IPv6' ? 6 : typeof family === 'number' ? family : 0;
}

/**
 * A `net.connect` lookup that answers only with addresses the policy accepts. net.connect asks
 * for all addresses (happy eyeballs, `all: true`) or one of a family; both are served from one
 * checked resolution.
 */
function checkedLookup(policy: CallbackTargetPolicy): LookupFunction {
  return (hostname, options, callback) => {
    policy.addressesOf(hostname).then(
      (addresses) => {
        const family = wantedFamily(options.family);
        const usable: LookupAddress[] = family === 0 ? addresses : addresses.filter((entry) => entry.family === family);
        if (usable.length === 0) {
          callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname} (no IPv${family} address)`), { code: 'ENOTFOUND' }), '');
        } else if (options.all) {
          callback(null, usable);
        } else {
          callback(null, usable[0]!.address, usable[0]!.family);
        }
      },
      (error: Error) => callback(error, ''),
    );
  };
}

/**
 * The undici Agent webhook deliveries go through. The policy sits in the connection's own lookup,
 * so the address checked is the address connected to: a name that resolved to a public address
 * when the job was accepted and resolves to 127.0.0.1 now (DNS rebinding) fails before any packet
 * is sent. Keep-alive connections are reused only for the origin (and so the address) they were
 * opened for.
 */
export function callbackAgent(policy: CallbackTargetPolicy): Agent {
  const connect = buildConnector({ lookup: checkedLookup(policy) });
  return new Agent({
    connect(options, callback) {
      // net.connect skips the lookup for IP literals: they are checked here instead.
      if (isIP(options.hostname) !== 0) {
        try {
          policy.checkAddress(options.hostname);
        } catch (error) {
          callback(error as Error, null);
          return;
        }
      }
      connect(options, callback);
    },
  });
}
