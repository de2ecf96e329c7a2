import { describe, expect, it } from "vitest";
import type { Fix } from "../../protocol/index.ts";
import { DriverUpFrame } from "../../protocol/index.ts";
import { LocationUplink, MAX_QUEUED_FIXES, fixFromPosition, memoryFixStore } from "./uplink.ts";

class Link {
  connected = true;
  frames: unknown[] = [];
  send(frame: unknown): boolean {
    if (!this.connected) return false;
    this.frames.push(frame);
    return true;
  }
}

const T0 = 1_700_000_000_000;
const fix = (i: number): Fix => ({ lat: 25.04 + i * 1e-4, lng: 102.71, at: T0 + i * 1000 });

describe("LocationUplink", () => {
  it("sends each fix at once as a location frame while connected", () => {
    const link = new Link();
    const uplink = new LocationUplink(link);
    uplink.report(fix(1));
    uplink.report(fix(2));
    expect(link.frames).toEqual([
      { type: "location", fix: fix(1), coord: "wgs84" },
      { type: "location", fix: fix(2), coord: "wgs84" },
    ]);
    for (const frame of link.frames) expect(DriverUpFrame.safeParse(frame).success).toBe(true);
  });

  it("keeps fixes taken offline and sends them oldest first as one frame on reconnect", () => {
    const link = new Link();
    const uplink = new LocationUplink(link);
    link.connected = false;
    for (let i = 1; i <= 5; i++) uplink.report(fix(i));
    expect(uplink.snapshot.queued).toBe(5);
    link.connected = true;
    expect(uplink.flush()).toBe(true);
    expect(link.frames).toEqual([
      { type: "locations", fixes: [1, 2, 3, 4, 5].map(fix), coord: "wgs84" },
    ]);
    expect(uplink.snapshot.queued).toBe(0);
  });

  it("keeps only the newest hundred fixes, the most one frame may carry", () => {
    const link = new Link();
    const uplink = new LocationUplink(link);
    link.connected = false;
    for (let i = 1; i <= 130; i++) uplink.report(fix(i));
    expect(uplink.snapshot).toMatchObject({ queued: MAX_QUEUED_FIXES, dropped: 30 });
    link.connected = true;
    uplink.flush();
    const frame = DriverUpFrame.parse(link.frames[0]);
    expect(frame.type === "locations" && frame.fixes[0]).toEqual(fix(31));
  });

  it("sends a new fix behind the queue, never ahead of it", () => {
    const link = new Link();
    const uplink = new LocationUplink(link);
    link.connected = false;
    uplink.report(fix(1));
    link.connected = true;
    uplink.report(fix(2));
    expect(link.frames).toEqual([{ type: "locations", fixes: [fix(1), fix(2)], coord: "wgs84" }]);
  });

  it("skips a fix that is not newer than the last one", () => {
    const link = new Link();
    const uplink = new LocationUplink(link);
    uplink.report(fix(2));
    uplink.report(fix(2));
    uplink.report(fix(1));
    expect(link.frames).toHaveLength(1);
  });

  it("keeps the queue in its store, so a reload still sends it", () => {
    const store = memoryFixStore();
    const link = new Link();
    link.connected = false;
    new LocationUplink(link, store).report(fix(1));
    link.connected = true;
    const reloaded = new LocationUplink(link, store);
    expect(reloaded.snapshot.queued).toBe(1);
    reloaded.flush();
    expect(store.load()).toEqual([]);
  });

  it("totals accepted and rejected fixes from the gateway's acks", () => {
    const uplink = new LocationUplink(new Link());
    uplink.receive({ type: "location_ack", accepted: 3, rejected: [] });
    uplink.receive({ type: "location_ack", accepted: 1, rejected: [{ at: T0, code: "jump" }] });
    expect(uplink.snapshot).toMatchObject({ accepted: 4, rejected: 1, lastRejection: "jump" });
  });
});

describe("fixFromPosition", () => {
  const coords = { latitude: 25.04, longitude: 102.71, accuracy: 12, speed: null, heading: null };

  it("leaves out what the device does not know", () => {
    expect(fixFromPosition({ coords, timestamp: T0 })).toEqual({
      lat: 25.04,
      lng: 102.71,
      accuracy: 12,
      at: T0,
    });
  });

  it("keeps speed and heading when they are real numbers", () => {
    const moving = { ...coords, speed: 4.2, heading: 90 };
    expect(fixFromPosition({ coords: moving, timestamp: T0 })).toMatchObject({
      speed: 4.2,
      heading: 90,
    });
    const nan = { ...coords, speed: Number.NaN, heading: Number.NaN };
    expect(fixFromPosition({ coords: nan, timestamp: T0 })).not.toHaveProperty("heading");
  });

  it("refuses a position outside the globe", () => {
    expect(fixFromPosition({ coords: { ...coords, latitude: 91 }, timestamp: T0 })).toBeNull();
  });
});
