import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from '../../../../libs/batches/test/support/private-redis.js';

const HOST = '127.0.0.1';
const SLOTS = 16384;

export interface RedisAddress {
  host: string;
  port: number;
}

export interface RedisClusterOptions {
  /** At least 3: `redis-cli --cluster create` refuses fewer masters. */
  masters?: number;
  /** Bound on the wait for the cluster to form and agree. */
  timeoutMs?: number;
}

export interface RedisClusterFixture {
  nodes: RedisAddress[];
  /** The REDIS_CLUSTER_NODES value: `127.0.0.1:p1,127.0.0.1:p2,...`. */
  nodesEnv: string;
  /** The master owning `slot`, from the slot map all nodes agreed on at formation. */
  nodeForSlot(slot: number): RedisAddress;
  /** The master owning `key`, asked of the cluster (CLUSTER KEYSLOT + CLUSTER SLOTS). */
  nodeForKey(key: string): Promise<RedisAddress>;
  /**
   * Two of the candidate hash tags whose slots (of the key `{tag}`) are owned by different
   * masters, so keys built as `prefix:{tag}:...` land on different nodes.
   */
  keysOnDistinctNodes(tags: string[]): Promise<[string, string]>;
  /** SIGKILLs the servers it started, awaits their exit and deletes their directories. */
  stop(): Promise<void>;
}

export interface SentinelGroupOptions {
  masterName?: string;
  downAfterMs?: number;
  failoverTimeoutMs?: number;
  /** Bound on the wait for the replica to sync and the sentinels to find each other. */
  timeoutMs?: number;
}

export interface SentinelGroupFixture {
  masterName: string;
  sentinels: RedisAddress[];
  /** The REDIS_SENTINELS value: `127.0.0.1:s1,127.0.0.1:s2,127.0.0.1:s3`. */
  sentinelsEnv: string;
  /** The master as the first sentinel that answers reports it (SENTINEL GET-MASTER-ADDR-BY-NAME). */
  master(): Promise<RedisAddress>;
  /** SIGKILLs whichever data node is the current master, awaits its exit, and returns its address. */
  killMaster(): Promise<RedisAddress>;
  /**
   * Resolves once every sentinel reports a master other than `oldMaster` and that node answers
   * ROLE as master. `ms` counts from the SIGKILL when `oldMaster` was killed by `killMaster`,
   * otherwise from the call.
   */
  waitForPromotion(oldMaster: RedisAddress, timeoutMs?: number): Promise<{ newMaster: RedisAddress; ms: number }>;
  /**
   * Starts the data node `killMaster` killed again, on its port and empty (as a replaced pod
   * would), and resolves once the sentinels have made it a replica of the current master and it
   * is in sync: the group has a replica again.
   */
  restartKilled(timeoutMs?: number): Promise<RedisAddress>;
  /**
   * SIGSTOPs the replica (the data node that is not the master): it stops reading the replication
   * stream, as a replica that lags does. Resolves with the SIGCONT that thaws it.
   */
  freezeReplica(): Promise<() => void>;
  /** SIGKILLs the sentinels and data nodes it started, awaits their exit and deletes their directories. */
  stop(): Promise<void>;
}

/** One redis-server (data node or sentinel) this module started, in a temp dir of its own. */
interface RedisProcess extends RedisAddress {
  dir: string;
  child: ChildProcess;
  running(): boolean;
  kill(): Promise<void>;
  /** SIGKILL (if still running) and delete the directory. */
  dispose(): Promise<void>;
  log(): Promise<string>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const address = ({ host, port }: RedisAddress): RedisAddress => ({ host, port });
const sameAddress = (a: RedisAddress, b: RedisAddress) => a.host === b.host && a.port === b.port;
const joinAddresses = (nodes: RedisAddress[]) => nodes.map(({ host, port }) => `${host}:${port}`).join(',');

/** One command on a fresh, non-retrying connection: a dead or not-yet-listening server fails fast. */
async function query(node: RedisAddress, ...args: (string | number)[]): Promise<unknown> {
  const client = new Redis({
    host: node.host,
    port: node.port,
    lazyConnect: true,
    enableReadyCheck: false,
    connectTimeout: 1_000,
    commandTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    client.disconnect();
  }
}

/** Polls `check` until it returns a value; errors count as "not yet", and the last one is reported on timeout. */
async function waitUntil<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = 'condition not met';
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last instanceof Error ? last.message : String(last)})`);
    await sleep(intervalMs);
  }
}

function track(child: ChildProcess, port: number, dir: string): RedisProcess {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const kill = async () => {
    if (running()) child.kill('SIGKILL');
    await exited;
  };
  return {
    host: HOST,
    port,
    dir,
    child,
    running,
    kill,
    async dispose() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
    log: () => readFile(join(dir, 'redis.log'), 'utf8').catch(() => ''),
  };
}

/**
 * Starts a redis-server in a new temp dir and resolves once it answers PING. `build` picks the
 * ports and writes any config; since freePort's port can be taken before redis-server binds it,
 * a server that exits while starting is retried on fresh ports.
 */
async function launch(label: string, build: (dir: string) => Promise<{ port: number; args: string[] }>): Promise<RedisProcess> {
  let failure = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), `rp-${label}-`));
    const { port, args } = await build(dir);
    const child = spawn('redis-server', args, { cwd: dir, stdio: 'ignore' });
    const proc = track(child, port, dir);
    try {
      await waitUntil(`${label} on ${port} answers PING`, 10_000, async () => {
        if (!proc.running()) throw new Error('exited');
        return (await query(proc, 'PING')) === 'PONG' ? true : undefined;
      });
      return proc;
    } catch (error) {
      failure = `${(error as Error).message}\n${(await proc.log()).slice(-2_000)}`;
      await proc.dispose();
    }
  }
  throw new Error(`${label} did not start:\n${failure}`);
}

const dataArgs = (port: number, dir: string) => [
  '--port', String(port), '--bind', HOST, '--dir', dir, '--logfile', join(dir, 'redis.log'), '--save', '', '--appendonly', 'no',
  // A full sync otherwise waits 5 s for more replicas to batch them into one diskless transfer.
  '--repl-diskless-sync-delay', '0',
];

async function disposeAll(procs: RedisProcess[]): Promise<void> {
  await Promise.all(procs.map((proc) => proc.dispose()));
}

/**
 * Runs `start`; if it fails, disposes everything in `procs` (read then, so what `start` pushed
 * counts) and rethrows with their log tails: a failed start leaves nothing behind.
 */
async function guarded<T>(procs: RedisProcess[], start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const logs = await Promise.all(procs.map(async (proc) => `--- ${proc.port}\n${(await proc.log()).slice(-1_500)}`));
    await disposeAll(procs);
    throw new Error(`${(error as Error).message}\n${logs.join('\n')}`);
  }
}

interface SlotRange {
  start: number;
  end: number;
  owner: RedisAddress;
}

/** A node's CLUSTER SLOTS as master ranges sorted by start. */
async function slotMap(node: RedisAddress): Promise<SlotRange[]> {
  const reply = (await query(node, 'CLUSTER', 'SLOTS')) as [number, number, [string, number, ...unknown[]], ...unknown[]][];
  return reply
    .map(([start, end, [host, port]]) => ({ start, end, owner: { host: host || node.host, port } }))
    .sort((a, b) => a.start - b.start);
}

function ownerOf(map: SlotRange[], slot: number): RedisAddress {
  const range = map.find(({ start, end }) => slot >= start && slot <= end);
  if (!range) throw new Error(`slot ${slot} is not assigned`);
  return address(range.owner);
}

/**
 * The slot map once every node reports cluster_state:ok, knows all the others, and gives the same
 * complete CLUSTER SLOTS: only then does a Cluster client connecting to any of them see one topology.
 */
async function agreedSlotMap(nodes: RedisAddress[], timeoutMs: number): Promise<SlotRange[]> {
  return waitUntil('cluster state ok and slot ownership agreed', timeoutMs, async () => {
    for (const node of nodes) {
      const info = String(await query(node, 'CLUSTER', 'INFO'));
      if (!info.includes('cluster_state:ok') || !info.includes(`cluster_known_nodes:${nodes.length}\r`)) return undefined;
    }
    const maps = await Promise.all(nodes.map(slotMap));
    const render = (map: SlotRange[]) => map.map(({ start, end, owner }) => `${start}-${end}@${owner.host}:${owner.port}`).join(' ');
    const first = render(maps[0]);
    if (maps.some((map) => render(map) !== first)) return undefined;
    const covered = maps[0].reduce((sum, { start, end }) => sum + end - start + 1, 0);
    return covered === SLOTS ? maps[0] : undefined;
  });
}

export async function startRedisCluster({ masters = 3, timeoutMs = 20_000 }: RedisClusterOptions = {}): Promise<RedisClusterFixture> {
  if (masters < 3) throw new Error(`a cluster needs at least 3 masters, got ${masters}`);
  const procs: RedisProcess[] = [];
  const map = await guarded(procs, async () => {
    for (let i = 0; i < masters; i++) {
      procs.push(
        await launch('cluster-node', async (dir) => {
          const port = await freePort();
          // The bus port is picked too, not left at port + 10000, which may be taken or above 65535.
          const busPort = await freePort();
          const args = [
            ...dataArgs(port, dir),
            '--cluster-enabled', 'yes',
            '--cluster-config-file', join(dir, `nodes-${port}.conf`),
            '--cluster-node-timeout', '2000',
            '--cluster-port', String(busPort),
            '--cluster-announce-ip', HOST,
          ];
          return { port, args };
        }),
      );
    }
    const nodes = procs.map((proc) => `${proc.host}:${proc.port}`);
    await promisify(execFile)('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], { timeout: timeoutMs }).catch(
      (error: Error & { stdout?: string }) => {
        // redis-cli reports why on stdout, which the error message leaves out.
        throw new Error(`${error.message}\n${error.stdout ?? ''}`);
      },
    );
    return agreedSlotMap(procs, timeoutMs);
  });
  const nodes = procs.map(address);
  const nodeForKey = async (key: string) => ownerOf(await slotMap(nodes[0]), Number(await query(nodes[0], 'CLUSTER', 'KEYSLOT', key)));
  return {
    nodes,
    nodesEnv: joinAddresses(nodes),
    nodeForSlot: (slot) => ownerOf(map, slot),
    nodeForKey,
    async keysOnDistinctNodes(tags) {
      const owners = await Promise.all(tags.map((tag) => nodeForKey(`{${tag}}`)));
      for (let i = 1; i < tags.length; i++) {
        if (!sameAddress(owners[i], owners[0])) return [tags[0], tags[i]];
      }
      throw new Error(`all candidate tags hash to slots on ${owners[0]?.port}: ${tags.join(', ')}`);
    },
    stop: () => disposeAll(procs),
  };
}

const sentinelAddress = (reply: unknown): RedisAddress | undefined => {
  if (!Array.isArray(reply) || reply.length < 2) return undefined;
  return { host: String(reply[0]), port: Number(reply[1]) };
};

export async function startSentinelGroup({
  masterName = 'rp-master',
  downAfterMs = 1_000,
  failoverTimeoutMs = 3_000,
  timeoutMs = 20_000,
}: SentinelGroupOptions = {}): Promise<SentinelGroupFixture> {
  const dataNodes: RedisProcess[] = [];
  const sentinelProcs: RedisProcess[] = [];
  const all: RedisProcess[] = [];
  const started = (proc: RedisProcess, into: RedisProcess[]) => {
    into.push(proc);
    all.push(proc);
    return proc;
  };
  await guarded(all, async () => {
    const master = started(
      await launch('sentinel-master', async (dir) => {
        const port = await freePort();
        return { port, args: dataArgs(port, dir) };
      }),
      dataNodes,
    );
    const replica = started(
      await launch('sentinel-replica', async (dir) => {
        const port = await freePort();
        return { port, args: [...dataArgs(port, dir), '--replicaof', HOST, String(master.port)] };
      }),
      dataNodes,
    );
    // Sentinels read the master's replicas from its INFO only every 10 s: start them once the
    // master lists the replica, so their first INFO already has it.
    await waitUntil('replica in sync', timeoutMs, async () => {
      const replicaInfo = String(await query(replica, 'INFO', 'replication'));
      const masterInfo = String(await query(master, 'INFO', 'replication'));
      return replicaInfo.includes('master_link_status:up') && masterInfo.includes('connected_slaves:1') ? true : undefined;
    });
    for (let i = 0; i < 3; i++) {
      const sentinel = await launch('sentinel', async (dir) => {
        const port = await freePort();
        const config = join(dir, 'sentinel.conf');
        // Sentinels rewrite this file (known sentinels, epochs), so it lives in their own writable dir.
        await writeFile(config, [
          `port ${port}`,
          `bind ${HOST}`,
          `dir ${dir}`,
          `logfile ${join(dir, 'redis.log')}`,
          `sentinel monitor ${masterName} ${HOST} ${master.port} 2`,
          `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
          `sentinel failover-timeout ${masterName} ${failoverTimeoutMs}`,
          `sentinel parallel-syncs ${masterName} 1`,
          '',
        ].join('\n'));
        return { port, args: [config, '--sentinel'] };
      });
      started(sentinel, sentinelProcs);
    }
    await waitUntil('sentinels know the replica and each other', timeoutMs, async () => {
      for (const sentinel of sentinelProcs) {
        const info = String(await query(sentinel, 'INFO', 'sentinel'));
        if (!info.includes(`name=${masterName},status=ok,address=${HOST}:${master.port},slaves=1,sentinels=3`)) return undefined;
      }
      return true;
    });
  });

  const sentinels = sentinelProcs.map(address);
  const askSentinel = async (sentinel: RedisAddress) =>
    sentinelAddress(await query(sentinel, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName));
  let lastKill: { address: RedisAddress; at: number } | undefined;

  const master = async (): Promise<RedisAddress> => {
    let last: unknown;
    for (const sentinel of sentinels) {
      try {
        const reported = await askSentinel(sentinel);
        if (reported) return reported;
      } catch (error) {
        last = error;
      }
    }
    throw new Error(`no sentinel reports a master for ${masterName}${last ? `: ${(last as Error).message}` : ''}`);
  };

  return {
    masterName,
    sentinels,
    sentinelsEnv: joinAddresses(sentinels),
    master,
    async killMaster() {
      const current = await master();
      const node = dataNodes.find((proc) => sameAddress(proc, current));
      if (!node) throw new Error(`the master ${current.host}:${current.port} is none of the group's data nodes`);
      if (!node.running()) throw new Error(`the master ${current.port} is already dead (no promotion yet?)`);
      lastKill = { address: current, at: Date.now() };
      await node.kill();
      return current;
    },
    async waitForPromotion(oldMaster, promotionTimeoutMs = 15_000) {
      const start = lastKill && sameAddress(lastKill.address, oldMaster) ? lastKill.at : Date.now();
      const newMaster = await waitUntil(`promotion away from ${oldMaster.port}`, promotionTimeoutMs, async () => {
        const reported = await Promise.all(sentinels.map(askSentinel));
        const candidate = reported[0];
        if (!candidate || sameAddress(candidate, oldMaster)) return undefined;
        // Every sentinel, since a client asks whichever answers first.
        if (reported.some((r) => !r || !sameAddress(r, candidate))) return undefined;
        const role = (await query(candidate, 'ROLE')) as unknown[];
        return role[0] === 'master' ? candidate : undefined;
      });
      return { newMaster, ms: Date.now() - start };
    },
    async restartKilled(restartTimeoutMs = 15_000) {
      if (!lastKill) throw new Error('no data node was killed');
      const index = dataNodes.findIndex((proc) => sameAddress(proc, lastKill!.address));
      const dead = dataNodes[index];
      if (dead.running()) throw new Error(`${dead.port} is running`);
      // Started as a replica of the current master, as a sentinel-aware orchestrator starts a
      // replaced node: the sentinels would otherwise take up to 10 s (their INFO period) to demote it.
      const current = await master();
      const child = spawn('redis-server', [...dataArgs(dead.port, dead.dir), '--replicaof', current.host, String(current.port)], { cwd: dead.dir, stdio: 'ignore' });
      const revived = track(child, dead.port, dead.dir);
      dataNodes[index] = revived;
      all[all.indexOf(dead)] = revived;
      await waitUntil(`${dead.port} back as a replica in sync`, restartTimeoutMs, async () => {
        const info = String(await query(revived, 'INFO', 'replication'));
        return info.includes('role:slave') && info.includes('master_link_status:up') ? true : undefined;
      });
      return address(revived);
    },
    async freezeReplica() {
      const current = await master();
      const replica = dataNodes.find((proc) => !sameAddress(proc, current) && proc.running());
      if (!replica) throw new Error('the group has no running replica');
      replica.child.kill('SIGSTOP');
      return () => void replica.child.kill('SIGCONT');
    },
    stop: () => disposeAll(all),
  };
}
