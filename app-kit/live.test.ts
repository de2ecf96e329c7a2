import { describe, expect, it } from "vitest";
import type { PushFrame } from "../protocol/index.ts";
import { LiveChannels, memoryOffsets } from "./live.ts";

const position = (at: number): PushFrame => ({
  kind: "courier",
  courierId: "c1",
  lat: 25.04,
  lng: 102.71,
  at,
  coarse: false,
});

describe("LiveChannels", () => {
  it("subscribes without an offset the first time and resumes after the last push", () => {
    const seen: number[] = [];
    const live = new LiveChannels(["courier:c1"], memoryOffsets(), (_c, _f, offset) =>
      seen.push(offset),
    );
    expect(live.subscribeFrames()).toEqual([{ type: "subscribe", channel: "courier:c1" }]);
    live.receive({ type: "push", channel: "courier:c1", offset: 7, frame: position(1) });
    live.receive({ type: "push", channel: "courier:c1", offset: 9, frame: position(2) });
    expect(live.subscribeFrames()).toEqual([
      { type: "subscribe", channel: "courier:c1", offset: 9 },
    ]);
    expect(seen).toEqual([7, 9]);
  });

  it("drops pushes replayed at or below the last offset", () => {
    const seen: number[] = [];
    const live = new LiveChannels(["market:km"], memoryOffsets(), (_c, _f, offset) =>
      seen.push(offset),
    );
    for (const offset of [3, 4, 4, 2, 5]) {
      live.receive({ type: "push", channel: "market:km", offset, frame: position(offset) });
    }
    expect(seen).toEqual([3, 4, 5]);
  });

  it("ignores channels it does not watch", () => {
    const live = new LiveChannels(["courier:c1"], memoryOffsets(), () => {
      throw new Error("not mine");
    });
    expect(
      live.receive({ type: "push", channel: "courier:c2", offset: 1, frame: position(1) }),
    ).toBe(false);
  });

  it("takes the first subscribe's offset as now, but never skips a resumed replay", () => {
    const fresh = new LiveChannels(["courier:c1"], memoryOffsets(), () => undefined);
    fresh.receive({ type: "subscribed", channel: "courier:c1", offset: 40 });
    expect(fresh.offset("courier:c1")).toBe(40);

    const offsets = memoryOffsets();
    offsets.save("courier:c1", 10);
    const resumed = new LiveChannels(["courier:c1"], offsets, () => undefined);
    resumed.receive({ type: "subscribed", channel: "courier:c1", offset: 40 });
    expect(resumed.offset("courier:c1")).toBe(10);
    resumed.receive({ type: "push", channel: "courier:c1", offset: 11, frame: position(1) });
    expect(resumed.offset("courier:c1")).toBe(11);
  });

  it("resumes from a saved offset after a reload", () => {
    const offsets = memoryOffsets();
    const before = new LiveChannels(["courier:c1"], offsets, () => undefined);
    before.receive({ type: "push", channel: "courier:c1", offset: 21, frame: position(1) });
    const after = new LiveChannels(["courier:c1"], offsets, () => undefined);
    expect(after.subscribeFrames()[0]?.offset).toBe(21);
  });

  it("watches a channel added later, once, and resubscribes it after a reconnect", () => {
    const seen: string[] = [];
    const live = new LiveChannels(["market:km"], memoryOffsets(), (channel) => seen.push(channel));
    expect(live.watch("courier:c2")).toEqual({ type: "subscribe", channel: "courier:c2" });
    expect(live.watch("courier:c2")).toBeNull();
    live.receive({ type: "push", channel: "courier:c2", offset: 5, frame: position(1) });
    expect(seen).toEqual(["courier:c2"]);
    expect(live.subscribeFrames()).toEqual([
      { type: "subscribe", channel: "market:km" },
      { type: "subscribe", channel: "courier:c2", offset: 5 },
    ]);
  });
});
