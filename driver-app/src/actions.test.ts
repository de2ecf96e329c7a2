import { describe, expect, it } from "vitest";
import { ActionQueue, memoryActionStore } from "./actions.ts";
import type { QueuedAction, SendResult, Settled } from "./actions.ts";
import { sendAction } from "./api.ts";
import type { Fetch } from "./api.ts";

/** A sender the test answers by hand, attempt by attempt. */
function scripted(answers: SendResult[]) {
  const sent: Array<{ key: string; kind: string }> = [];
  const send = async (queued: QueuedAction): Promise<SendResult> => {
    sent.push({ key: queued.key, kind: queued.action.kind });
    const answer = answers.shift();
    if (answer === undefined) throw new Error("no answer scripted");
    return answer;
  };
  return { sent, send };
}

function manualTimer() {
  const timers: Array<() => void> = [];
  return {
    setTimer: (fn: () => void) => timers.push(fn),
    clearTimer: () => undefined,
    fire: () => timers.shift()?.(),
    get waiting() {
      return timers.length;
    },
  };
}

let keys = 0;
const newKey = () => `k${++keys}`;

describe("ActionQueue", () => {
  it("sends actions in the order they were taken, each once", async () => {
    const { sent, send } = scripted([{ outcome: "done" }, { outcome: "done" }]);
    const settled: Settled[] = [];
    const queue = new ActionQueue({ send, newKey, onSettled: (s) => settled.push(s) });
    queue.take({ kind: "arrived_customer", orderId: "o1" });
    queue.take({ kind: "deliver", orderId: "o1", pin: "1234" });
    await queue.flush();
    expect(sent.map((s) => s.kind)).toEqual(["arrived_customer", "deliver"]);
    expect(settled.map((s) => s.ok)).toEqual([true, true]);
    expect(queue.pending).toHaveLength(0);
  });

  it("keeps an action that could not be sent at the head, and resends it with the same key", async () => {
    const timer = manualTimer();
    const { sent, send } = scripted([
      { outcome: "retry", code: "network_error" },
      { outcome: "retry", code: "http_504" },
      { outcome: "done" },
      { outcome: "done" },
    ]);
    const queue = new ActionQueue({ send, newKey, ...timer });
    const first = queue.take({ kind: "accept", orderId: "o2" });
    await queue.flush();
    queue.take({ kind: "arrived_store", orderId: "o2" });
    await queue.flush();
    // Nothing behind the head went out while the head waited.
    expect(sent.map((s) => s.kind)).toEqual(["accept", "accept"]);
    expect(queue.pending.map((q) => q.action.kind)).toEqual(["accept", "arrived_store"]);
    timer.fire();
    await queue.flush();
    expect(sent.map((s) => s.key)).toEqual([first.key, first.key, first.key, sent[3]!.key]);
    expect(sent[3]!.kind).toBe("arrived_store");
    expect(queue.pending).toHaveLength(0);
  });

  it("survives a reload: what was queued is sent by the next page with its key", async () => {
    const store = memoryActionStore();
    const offline = new ActionQueue({
      send: async () => ({ outcome: "retry", code: "network_error" }),
      store,
      newKey,
      setTimer: () => undefined,
    });
    const taken = offline.take({ kind: "fail", orderId: "o3", reason: "no_answer" });
    await offline.flush();

    const { sent, send } = scripted([{ outcome: "done" }]);
    const reloaded = new ActionQueue({ send, store, newKey });
    await reloaded.flush();
    expect(sent).toEqual([{ key: taken.key, kind: "fail" }]);
    expect(store.load()).toEqual([]);
  });

  it("drops a refused action with its reason and goes on with the next", async () => {
    const { sent, send } = scripted([
      { outcome: "refused", code: "wrong_delivery_pin", message: "no" },
      { outcome: "done" },
    ]);
    const settled: Settled[] = [];
    const queue = new ActionQueue({ send, newKey, onSettled: (s) => settled.push(s) });
    queue.take({ kind: "deliver", orderId: "o4", pin: "0000" });
    queue.take({ kind: "deliver", orderId: "o4", pin: "1234" });
    await queue.flush();
    expect(sent).toHaveLength(2);
    expect(settled[0]).toMatchObject({ ok: false, code: "wrong_delivery_pin" });
    expect(settled[1]).toMatchObject({ ok: true });
  });

  it("keeps an uploaded photo's ref so a resend does not upload it again", async () => {
    const store = memoryActionStore();
    const { send } = scripted([
      {
        outcome: "progress",
        action: { kind: "deliver", orderId: "o5", photo: "x", photoRef: "sha256:a" },
      },
      { outcome: "retry", code: "network_error" },
    ]);
    const queue = new ActionQueue({ send, store, newKey, setTimer: () => undefined });
    queue.take({ kind: "deliver", orderId: "o5", photo: "x" });
    await queue.flush();
    expect(store.load()[0]?.action).toMatchObject({ photoRef: "sha256:a" });
  });
});

describe("sendAction", () => {
  function answering(status: number, body: unknown, seen: Array<[string, RequestInit]>): Fetch {
    return async (input, init) => {
      seen.push([input, init ?? {}]);
      return new Response(JSON.stringify(body), { status });
    };
  }
  const queued = (action: QueuedAction["action"]): QueuedAction => ({
    key: "drv-1",
    action,
    queuedAt: 1,
    attempts: 0,
  });

  it("posts a decline with its reason and the action's idempotency key", async () => {
    const seen: Array<[string, RequestInit]> = [];
    const result = await sendAction(
      "http://gw",
      "tok",
      queued({ kind: "decline", orderId: "o1", reason: "too_far" }),
      answering(202, { ok: true }, seen),
    );
    expect(result).toEqual({ outcome: "done" });
    const [url, init] = seen[0]!;
    expect(url).toBe("http://gw/v1/couriers/me/offers/o1/decline");
    expect(JSON.parse(String(init.body))).toEqual({ reason: "too_far" });
    expect((init.headers as Record<string, string>)["idempotency-key"]).toBe("drv-1");
  });

  it("retries on a gateway timeout and a lost network, and gives up on a refusal", async () => {
    const action = queued({ kind: "deliver", orderId: "o1", pin: "1234" });
    expect(
      await sendAction("", "t", action, answering(504, { error: { code: "timeout" } }, [])),
    ).toEqual({ outcome: "retry", code: "timeout" });
    const offline: Fetch = async () => {
      throw new TypeError("Failed to fetch");
    };
    expect(await sendAction("", "t", action, offline)).toEqual({
      outcome: "retry",
      code: "network_error",
    });
    const refused = await sendAction(
      "",
      "t",
      action,
      answering(409, { error: { code: "wrong_delivery_pin", message: "wrong" } }, []),
    );
    expect(refused).toEqual({ outcome: "refused", code: "wrong_delivery_pin", message: "wrong" });
  });

  it("uploads a queued photo before the delivery and reports its ref", async () => {
    const seen: Array<[string, RequestInit]> = [];
    const photo = `data:image/jpeg;base64,${btoa("\xff\xd8\xff\xe0jpeg")}`;
    const result = await sendAction(
      "http://gw",
      "tok",
      queued({ kind: "deliver", orderId: "o9", photo }),
      answering(201, { photoRef: "sha256:abc" }, seen),
    );
    expect(result).toEqual({
      outcome: "progress",
      action: { kind: "deliver", orderId: "o9", photo, photoRef: "sha256:abc" },
    });
    expect(seen[0]![0]).toBe("http://gw/v1/couriers/me/orders/o9/photo");
    expect((seen[0]![1].headers as Record<string, string>)["content-type"]).toBe("image/jpeg");
  });
});
