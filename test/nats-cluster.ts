/**
 * Several nats-server processes on loopback, started from the production configs in
 * deploy/nats/cluster/ (hub.conf, city.conf): a hub cluster, a city's leaf node, and a TCP link
 * between them that a test can cut and restore. Every server has its own file store in a
 * temporary directory; `destroy()` kills the servers and removes it.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect as connectTcp, createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";

const DEPLOY = join(dirname(fileURLToPath(import.meta.url)), "..", "deploy", "nats", "cluster");
export const HUB_CONF = join(DEPLOY, "hub.conf");
export const CITY_CONF = join(DEPLOY, "city.conf");

/** One nats-server process; it keeps its store across stop/kill and start. */
export interface NatsNode {
  readonly name: string;
  readonly url: string;
  readonly monitorUrl: string;
  readonly storeDir: string;
  readonly running: boolean;
  start(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** The server's /varz, /jsz, /leafz... as JSON. */
  monitor<T = Record<string, unknown>>(path: string): Promise<T>;
  /** The last lines the server logged, for a failure's message. */
  log(): string;
}

interface NodeSpec {
  readonly name: string;
  readonly conf: string;
  readonly env: Record<string, string>;
  readonly port: number;
  readonly monitorPort: number;
  readonly storeDir: string;
  /** Extra configuration appended to the production file (written beside the store). */
  readonly extra?: string;
}

function natsNode(spec: NodeSpec): NatsNode {
  let conf = spec.conf;
  if (spec.extra) {
    // nats-server resolves `include` relative to the including file, even an absolute path.
    const wrapper = join(spec.storeDir, "server.conf");
    writeFileSync(wrapper, `include "${relative(spec.storeDir, spec.conf)}"\n${spec.extra}\n`);
    conf = wrapper;
  }
  let child: ChildProcess | null = null;
  let tail = "";
  const url = `nats://127.0.0.1:${spec.port}`;
  const monitorUrl = `http://127.0.0.1:${spec.monitorPort}`;
  const exit = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill(signal);
    });
  return {
    name: spec.name,
    url,
    monitorUrl,
    storeDir: spec.storeDir,
    get running() {
      return child !== null && child.exitCode === null && child.signalCode === null;
    },
    async start() {
      if (this.running) return;
      child = spawn("nats-server", ["-c", conf], {
        env: { ...process.env, ...spec.env },
        stdio: ["ignore", "ignore", "pipe"],
      });
      child.stderr!.on("data", (chunk: Buffer) => {
        tail = (tail + chunk.toString()).slice(-8000);
      });
      for (let i = 0; i < 150; i++) {
        if (!this.running) break;
        try {
          const nc = await connect({ servers: url, reconnect: false, timeout: 500 });
          await nc.close();
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      await exit("SIGKILL");
      throw new Error(`nats-server ${spec.name} on ${spec.port} did not start:\n${tail}`);
    },
    stop: () => exit("SIGTERM"),
    kill: () => exit("SIGKILL"),
    async monitor<T>(path: string) {
      const res = await fetch(`${monitorUrl}${path}`);
      return (await res.json()) as T;
    },
    log: () => tail,
  };
}

export interface HubCluster {
  readonly nodes: readonly NatsNode[];
  /** Every server's client URL, comma-separated: NATS_URL for the processes. */
  readonly urls: string;
  /** Every server's leaf-node URL (what a city's remote lists). */
  readonly leafUrls: readonly string[];
  /** Waits until JetStream has a meta leader and answers. */
  ready(timeoutMs?: number): Promise<void>;
  /** The server currently leading the JetStream meta group, if any. */
  metaLeader(): Promise<NatsNode | null>;
  /** The server leading a stream's replicas. */
  streamLeader(nc: NatsConnection, stream: string): Promise<NatsNode | null>;
  /** Kills every server and deletes their stores. */
  destroy(): Promise<void>;
}

export interface HubClusterOptions {
  /**
   * First of the ports this cluster uses: clients at base+i, routes at base+10+i, monitoring at
   * base+20+i, leaf nodes at base+30+i, MQTT (when asked) at base+40+i. Use 16000-16999.
   */
  readonly basePort: number;
  /** Also listen for MQTT (each server at base+40+i): vans' loggers, the cold-chain tests. */
  readonly mqtt?: boolean;
  /**
   * The leaf-node address each server advertises to cities (host:port), e.g. a `Link` in front
   * of it; default its own leaf port. The hub gossips these to its leaf nodes, so a city cut
   * off through its links must not learn a way around them.
   */
  readonly leafAdvertise?: readonly string[];
}

/** A hub cluster of three servers from deploy/nats/cluster/hub.conf, started and ready. */
export async function startHubCluster(options: HubClusterOptions): Promise<HubCluster> {
  // Three servers, as hub.conf names three routes (a clustered JetStream of one server would
  // wait for peers for ever).
  const size = 3;
  const base = options.basePort;
  const dir = mkdtempSync(join(tmpdir(), "xianda-hub-"));
  const routes = Array.from({ length: size }, (_, i) => `nats-route://127.0.0.1:${base + 10 + i}`);
  const nodes = Array.from({ length: size }, (_, i) => {
    const storeDir = join(dir, `hub-${i + 1}`);
    mkdirSync(storeDir, { recursive: true });
    return natsNode({
      name: `hub-${i + 1}`,
      conf: HUB_CONF,
      port: base + i,
      monitorPort: base + 20 + i,
      storeDir,
      env: {
        XIANDA_NATS_NAME: `hub-${i + 1}`,
        XIANDA_NATS_LISTEN: `127.0.0.1:${base + i}`,
        XIANDA_NATS_MONITOR: `127.0.0.1:${base + 20 + i}`,
        XIANDA_NATS_STORE: storeDir,
        XIANDA_NATS_CLUSTER_LISTEN: `127.0.0.1:${base + 10 + i}`,
        XIANDA_NATS_ROUTE_1: routes[0]!,
        XIANDA_NATS_ROUTE_2: routes[1]!,
        XIANDA_NATS_ROUTE_3: routes[2]!,
        XIANDA_NATS_LEAF_LISTEN: `127.0.0.1:${base + 30 + i}`,
        XIANDA_NATS_LEAF_ADVERTISE: options.leafAdvertise?.[i] ?? `127.0.0.1:${base + 30 + i}`,
      },
      ...(options.mqtt ? { extra: `mqtt { listen: "127.0.0.1:${base + 40 + i}" }` } : {}),
    });
  });
  const destroy = async () => {
    await Promise.all(nodes.map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  const cluster: HubCluster = {
    nodes,
    urls: nodes.map((n) => n.url).join(","),
    leafUrls: nodes.map((_, i) => `nats-leaf://127.0.0.1:${base + 30 + i}`),
    async ready(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: unknown = null;
      while (Date.now() < deadline) {
        let nc: NatsConnection | null = null;
        try {
          nc = await connect({
            servers: nodes.filter((n) => n.running).map((n) => n.url),
            reconnect: false,
            timeout: 1000,
          });
          const jsm = await jetstreamManager(nc, { timeout: 2000 });
          await jsm.getAccountInfo();
          if ((await cluster.metaLeader()) !== null) return;
        } catch (err) {
          last = err;
        } finally {
          await nc?.close();
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`the hub cluster's JetStream did not become ready: ${String(last)}`);
    },
    async metaLeader() {
      for (const node of nodes) {
        if (!node.running) continue;
        try {
          const jsz = await node.monitor<{ meta_cluster?: { leader?: string } }>("/jsz");
          const leader = jsz.meta_cluster?.leader;
          if (leader) return nodes.find((n) => n.name === leader) ?? null;
        } catch {
          // that server is not answering; ask the next
        }
      }
      return null;
    },
    async streamLeader(nc, stream) {
      const jsm = await jetstreamManager(nc);
      const leader = (await jsm.streams.info(stream)).cluster?.leader;
      return nodes.find((n) => n.name === leader) ?? null;
    },
    destroy,
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await cluster.ready();
  } catch (err) {
    await destroy();
    throw err;
  }
  return cluster;
}

export interface CityLeaf {
  readonly node: NatsNode;
  readonly url: string;
  /** The city's MQTT port (vans' loggers). */
  readonly mqttPort: number;
  /** Waits until the leaf node's link to the hub is up (or, with `false`, down). */
  linked(up?: boolean, timeoutMs?: number): Promise<void>;
  destroy(): Promise<void>;
}

export interface CityLeafOptions {
  /** The city: its JetStream domain. */
  readonly city: string;
  /** Clients at base, monitoring at base+1, MQTT at base+2. */
  readonly basePort: number;
  /** The hub's leaf-node URLs (or links to them); one to three. */
  readonly hub: readonly string[];
}

/** A city's leaf node from deploy/nats/cluster/city.conf, started with its remote to the hub. */
export async function startCityLeaf(options: CityLeafOptions): Promise<CityLeaf> {
  const base = options.basePort;
  const storeDir = mkdtempSync(join(tmpdir(), `xianda-leaf-${options.city}-`));
  const hub = Array.from({ length: 3 }, (_, i) => options.hub[i % options.hub.length]!);
  const node = natsNode({
    name: `${options.city}-1`,
    conf: CITY_CONF,
    port: base,
    monitorPort: base + 1,
    storeDir,
    env: {
      XIANDA_NATS_NAME: `${options.city}-1`,
      XIANDA_NATS_LISTEN: `127.0.0.1:${base}`,
      XIANDA_NATS_MONITOR: `127.0.0.1:${base + 1}`,
      XIANDA_NATS_STORE: storeDir,
      XIANDA_CITY: options.city,
      XIANDA_HUB_1: hub[0]!,
      XIANDA_HUB_2: hub[1]!,
      XIANDA_HUB_3: hub[2]!,
      XIANDA_MQTT_LISTEN: `127.0.0.1:${base + 2}`,
    },
  });
  const destroy = async () => {
    await node.kill();
    rmSync(storeDir, { recursive: true, force: true });
  };
  try {
    await node.start();
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    node,
    url: node.url,
    mqttPort: base + 2,
    async linked(up = true, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const leafz = await node.monitor<{ leafnodes?: number }>("/leafz").catch(() => null);
        if (leafz && (leafz.leafnodes ?? 0) > 0 === up) return;
        if (Date.now() > deadline) {
          throw new Error(`the leaf link did not go ${up ? "up" : "down"}:\n${node.log()}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    destroy,
  };
}

/**
 * A TCP relay on loopback standing for the WAN link between a city and the hub: `cut()` drops
 * every connection through it and refuses new ones until `restore()`, a partition in which both
 * sides keep running.
 */
export interface Link {
  /** The URL to dial instead of the target, with the target's scheme. */
  readonly url: string;
  readonly up: boolean;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startLink(port: number, target: string): Promise<Link> {
  // Listening before the target exists is fine: it is dialled per inbound connection.
  const to = new URL(target);
  const sockets = new Set<Socket>();
  let up = true;
  const server: Server = createServer((inbound) => {
    if (!up) {
      inbound.destroy();
      return;
    }
    const outbound = connectTcp(Number(to.port), to.hostname);
    for (const [a, b] of [
      [inbound, outbound],
      [outbound, inbound],
    ] as const) {
      sockets.add(a);
      a.pipe(b);
      a.on("error", () => b.destroy());
      a.on("close", () => {
        sockets.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    url: `${to.protocol}//127.0.0.1:${port}`,
    get up() {
      return up;
    },
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      up = true;
    },
    async close() {
      up = false;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
