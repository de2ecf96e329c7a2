import { describe, expect, it } from "vitest";
import { TimerQueue } from "./timers.ts";

const a = { type: "probe", id: "a" };
const b = { type: "probe", id: "b" };
const timer = (at: number, sid: string) => ({ at, sid, msg: { type: "ring" } });

describe("the reminder queue", () => {
  it("returns due reminders in due order and keeps the rest", () => {
    const q = new TimerQueue();
    for (const [i, at] of [50, 10, 40, 20, 30].entries()) q.schedule(a, `t${i}`, timer(at, `${i}`));
    expect(q.takeDue(35).map((d) => d.timer.at)).toEqual([10, 20, 30]);
    expect(q.size).toBe(2);
    expect(q.takeDue(100).map((d) => d.timer.at)).toEqual([40, 50]);
  });

  it("drops a cancelled reminder and a replaced schedule", () => {
    const q = new TimerQueue();
    q.schedule(a, "t", timer(10, "1"));
    q.schedule(a, "t", timer(20, "2"));
    q.schedule(b, "t", timer(10, "3"));
    q.cancel(b, "t");
    expect(q.takeDue(100).map((d) => d.timer.sid)).toEqual(["2"]);
  });
});
