/**
 * A hub cluster (three servers, deploy/nats/cluster/hub.conf) and a city's leaf node with a
 * JetStream domain of its own (city.conf, domain `kunming`), linked through TCP relays standing
 * for the WAN. An actor host runs on the leaf. The link is cut: the city keeps taking and applying
 * commands (probe actors, and orders dispatched by its market) and van readings; the hub sees
 * none of it. When the link returns, the hub's history streams (sourcing the city's events and
 * telemetry across the domains) catch up: every event the city produced, once, in the city's
 * order. Prints the catch-up time.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActorClient } from "../../actors/index.ts";
import type { ProbeState } from "../../actors/index.ts";
import { DemoFlows } from "../../bin/demo-flows.ts";
import { connectNats, ensureHubHistory, ensureTopology, Topology } from "../../nats/index.ts";
import type { HubHistoryStreams } from "../../nats/index.ts";
import { startHost } from "../hosts.ts";
import type { HostProcess } from "../hosts.ts";
import { waitFor } from "../nats-helpers.ts";
import { startCityLeaf, startHubCluster, startLink } from "../nats-cluster.ts";
import type { CityLeaf, HubCluster, Link } from "../nats-cluster.ts";

const HUB_PORT = 16_200; // clients 16200-2, routes 16210-2, monitoring 16220-2, leaf 16230-2
const LINK_PORT = 16_250; // one relay per hub server
const LEAF_PORT = 16_260; // the city's clients, monitoring, MQTT
const CITY = "kunming";
const ACTORS = 40;
const PER_ROUND = 10;
const CUT_MS = 10_000;

interface Stored {
  readonly subject: string;
  readonly msgId: string;
}

/** Every message of a stream, in stream order, with its Nats-Msg-Id. */
async function readAll(nc: NatsConnection, stream: string): Promise<Stored[]> {
  const jsm = await jetstreamManager(nc);
  const total = (await jsm.streams.info(stream)).state.messages;
  const out: Stored[] = [];
  if (total === 0) return out;
  const consumer = await jetstream(nc).consumers.get(stream);
  const messages = await consumer.consume({ max_messages: 512 });
  for await (const m of messages) {
    out.push({ subject: m.subject, msgId: m.headers?.get("Nats-Msg-Id") ?? "" });
    if (m.info.pending === 0 && out.length >= total) break;
  }
  await messages.close();
  return out;
}

describe("a city's leaf node cut off from the hub", () => {
  const links: Link[] = [];
  let hub: HubCluster;
  let leaf: CityLeaf;
  let leafNc: NatsConnection;
  let hubNc: NatsConnection;
  let host: HostProcess | null = null;
  let client: ActorClient;
  let history: HubHistoryStreams;
  const topology = new Topology({ namespace: CITY, partitions: 4 });

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      links.push(await startLink(LINK_PORT + i, `nats-leaf://127.0.0.1:${HUB_PORT + 30 + i}`));
    }
    // The hub advertises the relays, so the city cannot learn a way around a cut link.
    hub = await startHubCluster({
      basePort: HUB_PORT,
      leafAdvertise: links.map((l) => new URL(l.url).host),
    });
    leaf = await startCityLeaf({ city: CITY, basePort: LEAF_PORT, hub: links.map((l) => l.url) });
    await leaf.linked(true);
    leafNc = await connectNats({ servers: leaf.url, name: "leaf.test-city" });
    hubNc = await connectNats({ servers: hub.urls, name: "leaf.test-hub" });
    await ensureTopology(leafNc, topology);
    [history] = (await ensureHubHistory(hubNc, [{ domain: CITY, topology }], {
      replicas: 3,
    })) as [HubHistoryStreams];
    host = await startHost("kunming-h1", {
      NATS_URL: leaf.url,
      XIANDA_NAMESPACE: CITY,
      XIANDA_PARTITIONS: String(topology.partitions),
    });
    client = new ActorClient({ nc: leafNc, topology, callTimeoutMs: 10_000 });
  }, 60_000);

  afterAll(async () => {
    client?.close();
    host?.kill("SIGKILL");
    await host?.exited;
    await leafNc?.close();
    await hubNc?.close();
    await leaf?.destroy();
    await hub?.destroy();
    for (const l of links) await l.close();
  });

  const count = async (nc: NatsConnection, stream: string) =>
    (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;

  /** One `add` per probe actor per round, each actor's in order. */
  async function probeRound(round: number): Promise<void> {
    await Promise.all(
      Array.from({ length: ACTORS }, async (_, i) => {
        for (let k = 0; k < PER_ROUND; k++) {
          const n = round * PER_ROUND + k + 1;
          await client.send(
            { type: "probe", id: `p${i}` },
            { type: "add", n },
            { id: `p${i}-${n}` },
          );
        }
      }),
    );
  }

  async function readings(from: number, to: number): Promise<void> {
    const js = jetstream(leafNc);
    for (let i = from; i < to; i++) {
      const body = { compartment: "C", celsius: 2 + (i % 3) / 10, at: Date.now() };
      await js.publish(topology.subjects.vehicleTemperature("van-km"), JSON.stringify(body), {
        msgID: `reading-${i}`,
      });
    }
  }

  it("keeps dispatching while cut off, and the hub's history fills in once the link returns", async () => {
    const flows = new DemoFlows(client);

    // Linked: the hub's history follows the city.
    await probeRound(0);
    await flows.assignedOrder({ orderId: "km-o1", courierId: "km-c1" });
    await readings(0, 20);
    await waitFor(
      "the hub to copy the city's events while linked",
      async () =>
        (await count(hubNc, history.events)) >= (await count(leafNc, topology.streams.events)),
      20_000,
      100,
    );

    // Cut: both sides keep running; the city goes on alone.
    for (const l of links) l.cut();
    await leaf.linked(false);
    const hubBefore = await count(hubNc, history.events);
    const cutAt = performance.now();
    await probeRound(1);
    await flows.assignedOrder({ orderId: "km-o2", courierId: "km-c2" });
    await flows.assignedOrder({ orderId: "km-o3", courierId: "km-c3" });
    await readings(20, 50);
    // Stay cut off for longer than either side's heartbeats (the hub's source consumer lives in
    // the city and is recreated when the link returns), taking a command every 250 ms.
    let ticks = 0;
    while (performance.now() - cutAt < CUT_MS) {
      ticks++;
      await client.send(
        { type: "probe", id: "ticker" },
        { type: "add", n: ticks },
        { id: `tick-${ticks}` },
      );
      await new Promise((r) => setTimeout(r, 250));
    }
    // Applied, not only stored: every probe has both rounds, in order.
    await waitFor(
      "the city to apply what it took while cut off",
      async () => {
        const views = await Promise.all(
          Array.from({ length: ACTORS }, (_, i) =>
            client.state<ProbeState>({ type: "probe", id: `p${i}` }),
          ),
        );
        return views.every((v) => v.view.count === 2 * PER_ROUND);
      },
      20_000,
      200,
    );
    for (let i = 0; i < ACTORS; i++) {
      const { view } = await client.state<ProbeState>({ type: "probe", id: `p${i}` });
      expect(view.log).toEqual(Array.from({ length: 2 * PER_ROUND }, (_, k) => k + 1));
    }
    const ticker = await waitFor("the ticker's commands applied", async () => {
      const { view } = await client.state<ProbeState>({ type: "probe", id: "ticker" });
      return view.count === ticks ? view : null;
    });
    expect(ticker.log).toEqual(Array.from({ length: ticks }, (_, k) => k + 1).slice(-64));
    const order = await client.state<{ courierId: string | null }>({ type: "order", id: "km-o3" });
    expect(order.view.courierId).toBe("km-c3");
    const cityWhileCut = await count(leafNc, topology.streams.events);
    expect(cityWhileCut).toBeGreaterThan(hubBefore + ACTORS * PER_ROUND);
    // The hub heard nothing while the link was down.
    expect(await count(hubNc, history.events)).toBe(hubBefore);
    console.log(
      `leaf: cut off for ${Math.round(performance.now() - cutAt)} ms; the city stored ${cityWhileCut - hubBefore} events the hub did not have`,
    );

    // Restored: the hub catches up on everything the city produced while cut off.
    const restoredAt = performance.now();
    for (const l of links) l.restore();
    await leaf.linked(true);
    const relinkedMs = performance.now() - restoredAt;
    const cityEvents = await readAll(leafNc, topology.streams.events);
    const cityReadings = await count(leafNc, topology.streams.telemetry);
    expect(cityReadings).toBe(50);
    await waitFor(
      "the hub's history to catch up",
      async () =>
        (await count(hubNc, history.events)) >= cityEvents.length &&
        (await count(hubNc, history.telemetry)) >= cityReadings,
      30_000,
      50,
    );
    const catchUpMs = performance.now() - restoredAt;
    console.log(
      `leaf: link back after ${Math.round(relinkedMs)} ms; hub history complete ${Math.round(catchUpMs)} ms after the link was restored (${cityEvents.length} events, ${cityReadings} readings)`,
    );

    // Complete, once each, in the city's order (the city may have gone on producing since).
    const hubEvents = await readAll(hubNc, history.events);
    const ids = hubEvents.map((e) => e.msgId);
    expect(ids.every((id) => id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(hubEvents.slice(0, cityEvents.length)).toEqual(cityEvents);
    const hubReadings = await readAll(hubNc, history.telemetry);
    expect(hubReadings.map((r) => r.msgId)).toEqual(
      Array.from({ length: 50 }, (_, i) => `reading-${i}`),
    );
  }, 90_000);
});
