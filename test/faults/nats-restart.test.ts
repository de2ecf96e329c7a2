/**
 * nats-server restarts (file storage) under an actor host: commands acknowledged before, during
 * reconnection and after are all applied once, in order, and reminders armed before still ring.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActorClient } from "../../actors/index.ts";
import type { ProbeState } from "../../actors/index.ts";
import { connectNats, ensureTopology, Topology } from "../../nats/index.ts";
import { startHost } from "../hosts.ts";
import type { HostProcess } from "../hosts.ts";
import { waitFor } from "../nats-helpers.ts";
import { startPrivateNats } from "../nats-server.ts";
import type { PrivateNats } from "../nats-server.ts";

describe("an actor host across a nats-server restart", () => {
  let server: PrivateNats;
  let nc: NatsConnection;
  let host: HostProcess;
  let client: ActorClient;
  const topology = new Topology({ partitions: 4 });

  beforeAll(async () => {
    server = await startPrivateNats(14_322);
    nc = await connectNats({ servers: server.url, name: "nats-restart.test" });
    await ensureTopology(nc, topology);
    host = await startHost("restart-h1", { NATS_URL: server.url, XIANDA_PARTITIONS: "4" });
    client = new ActorClient({ nc, topology, callTimeoutMs: 20_000 });
  });

  afterAll(async () => {
    client?.close();
    host?.kill("SIGTERM");
    await host?.exited;
    await nc?.close();
    await server?.destroy();
  });

  it("loses nothing and applies everything once", async () => {
    const actors = Array.from({ length: 20 }, (_, i) => ({ type: "probe", id: `r${i}` }));
    await Promise.all(
      actors.map((a) => client.call(a, { type: "arm", tag: "late", delayMs: 4000 })),
    );
    // A send that fails or times out may still have been stored: retry it with the same id.
    const round = (k: number) =>
      Promise.all(actors.map((a) => client.send(a, { type: "add", n: k }, { id: `${a.id}-${k}` })));
    const n = 20;
    for (let k = 1; k <= n / 2; k++) await round(k);

    await server.stop();
    await server.start();

    // The client reconnects too; a round is retried until the server acknowledges all of it.
    for (let k = n / 2 + 1; k <= n; k++) {
      await waitFor(
        `round ${k} to be acknowledged`,
        async () => (await round(k)) && true,
        20_000,
        200,
      );
    }
    await waitFor(
      "every command and reminder applied",
      async () => {
        const views = await Promise.all(actors.map((a) => client.state<ProbeState>(a)));
        return views.every((v) => v.view.count >= n && v.view.rang.length === 1);
      },
      30_000,
      250,
    );
    for (const a of actors) {
      const { view } = await client.state<ProbeState>(a);
      expect(view.log).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      expect(view.rang.map((r) => r.tag)).toEqual(["late"]);
    }
  }, 90_000);
});
