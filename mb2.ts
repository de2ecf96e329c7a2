import { connect, createInbox, headers } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
const nc = await connect({ servers: "127.0.0.1:4222" });
const jsm = await jetstreamManager(nc);
try {
  await jsm.streams.delete("MB");
} catch {}
await jsm.streams.add({ name: "MB", subjects: ["mb.>"], storage: "file" as any });
const N = 60000,
  C = 1000;
const payload = new TextEncoder().encode(
  JSON.stringify({ id: "x".repeat(20), msg: { type: "probe", n: 1 }, at: Date.now() }),
);
const inbox = createInbox();
const pending = new Map<number, (ok: boolean) => void>();
const dec = new TextDecoder();
let errs = 0;
nc.subscribe(inbox + ".*", {
  callback: (_e, m) => {
    const n = Number(m.subject.slice(inbox.length + 1));
    const r = pending.get(n);
    if (r) {
      pending.delete(n);
      const s = dec.decode(m.data);
      if (s.includes('"error"')) errs++;
      r(true);
    }
  },
});
let seq = 0;
function pub(subj: string, hdr?: any) {
  const n = ++seq;
  return new Promise<boolean>((res) => {
    pending.set(n, res);
    nc.publish(subj, payload, { reply: `${inbox}.${n}`, headers: hdr });
  });
}
async function run(label: string, op: (i: number) => Promise<unknown>) {
  let i = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (i < N) {
        const k = i++;
        await op(k);
      }
    }),
  );
  const dt = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    label,
    Math.round((N / dt) * 1000),
    "/s",
    "client cpu µs/op",
    ((cpu.user + cpu.system) / N).toFixed(1),
    "errs",
    errs,
  );
}
await run("raw acked publish", (k) => pub(`mb.${k % 64}.x`));
await run("raw acked publish w/ msgid hdr", (k) => {
  const h = headers();
  h.set("Nats-Msg-Id", "q" + k);
  return pub(`mb.${k % 64}.y`, h);
});
await run("raw expect subj 0", (k) => {
  const h = headers();
  h.set("Nats-Expected-Last-Subject-Sequence", "0");
  return pub(`mb.z.${k}`, h);
});
await run("raw expect subj 0 again (should all fail)", (k) => {
  const h = headers();
  h.set("Nats-Expected-Last-Subject-Sequence", "0");
  return pub(`mb.z.${k}`, h);
});
await jsm.streams.delete("MB");
await nc.close();
