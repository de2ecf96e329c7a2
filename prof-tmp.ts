import { ActorClient } from "/work/main/actors/index.ts";
import { connectNats, destroyTopology, ensureTopology, Topology } from "/work/main/nats/index.ts";
import { jetstreamManager } from "@nats-io/jetstream";
const nc = await connectNats({ servers: "nats://127.0.0.1:4222", name: "prof" });
const topology = new Topology({ namespace: "prof", partitions: 32 });
await destroyTopology(nc, topology);
await ensureTopology(nc, topology);
const client = new ActorClient({ nc, topology });
const jsm = await jetstreamManager(nc);
const N = Number(process.argv[2] ?? 30000),
  ACT = Number(process.argv[3] ?? 10000);
const rate = Number(process.argv[4] ?? 4000);
console.log("ready; start host now");
await new Promise((r) => setTimeout(r, 4000));
const t0 = performance.now();
let sent = 0;
while (sent < N) {
  const due = Math.min(N, Math.floor(((performance.now() - t0) / 1000) * rate));
  for (; sent < due; sent++)
    void client.send({ type: "probe", id: `a${sent % ACT}` }, { type: "add", n: sent });
  await new Promise((r) => setTimeout(r, 5));
}
for (;;) {
  const m = (await jsm.streams.info(topology.streams.events)).state.messages;
  if (m >= N) break;
  await new Promise((r) => setTimeout(r, 50));
}
console.log("applied", N, "in", Math.round(performance.now() - t0), "ms; offered rate", rate);
client.close();
await destroyTopology(nc, topology);
await nc.close();
