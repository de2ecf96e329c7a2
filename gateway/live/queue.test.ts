import { describe, expect, it } from "vitest";
import { OutQueue } from "./queue.ts";
import type { Outgoing } from "./queue.ts";

const frame = (text: string, key: string | null = null): Outgoing => ({
  text,
  type: "push",
  at: null,
  key,
});

describe("a live client's queue", () => {
  it("keeps the latest frame per key, moved to the back so offsets stay in order", () => {
    const q = new OutQueue(10);
    q.push(frame("pos1", "c-1"));
    q.push(frame("status1"));
    expect(q.push(frame("pos2", "c-1"))).toBe("conflated");
    expect(q.size).toBe(2);
    expect([q.shift()?.text, q.shift()?.text, q.shift()]).toEqual(["status1", "pos2", undefined]);
  });

  it("stays small however many conflated frames a stalled client misses", () => {
    const q = new OutQueue(4);
    for (let i = 0; i < 100_000; i++) q.push(frame(`pos${i}`, `c-${i % 3}`));
    expect(q.size).toBe(3);
    expect([q.shift()?.text, q.shift()?.text, q.shift()?.text]).toEqual([
      "pos99997",
      "pos99998",
      "pos99999",
    ]);
  });

  it("overflows on frames that cannot be replaced", () => {
    const q = new OutQueue(2);
    expect(q.push(frame("a"))).toBe("queued");
    expect(q.push(frame("b"))).toBe("queued");
    expect(q.push(frame("c"))).toBe("overflow");
    expect(q.push(frame("pos", "k"))).toBe("overflow");
  });

  it("merges frames that carry only what changed", () => {
    const q = new OutQueue(4);
    q.push({ ...frame("a", "m"), frame: ["c-1"] });
    const merge = (older: Outgoing): Outgoing => {
      const ids = [...(older.frame as string[]), "c-2"];
      return { ...frame(ids.join(","), "m"), frame: ids };
    };
    q.push({ ...frame("b", "m"), frame: ["c-2"], merge });
    expect(q.shift()?.text).toBe("c-1,c-2");
  });
});
