import { describe, expect, it } from "vitest";
import { TrackingConnection, expiredFromResponse, liveUrl } from "./connection.ts";
import type { ConnectionClock, LiveSocket } from "./connection.ts";
import { initialTracking } from "./session.ts";
import type { LinkExpired, TrackingState } from "./types.ts";

class FakeSocket implements LiveSocket {
  sent: unknown[] = [];
  closed: { code?: number; reason?: string } | null = null;
  private listeners: {
    open?: () => void;
    message?: (t: string) => void;
    close?: (c: number, r: string) => void;
  } = {};
  constructor(readonly url: string) {}
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close(code?: number, reason?: string) {
    this.closed = { code, reason };
  }
  onOpen(l: () => void) {
    this.listeners.open = l;
  }
  onMessage(l: (t: string) => void) {
    this.listeners.message = l;
  }
  onClose(l: (c: number, r: string) => void) {
    this.listeners.close = l;
  }
  onError() {}
  serverOpens() {
    this.listeners.open?.();
  }
  serverSends(frame: object) {
    this.listeners.message?.(JSON.stringify(frame));
  }
  serverCloses(code = 1006, reason = "") {
    this.listeners.close?.(code, reason);
  }
}

class FakeClock implements ConnectionClock {
  t = 1_000_000;
  timers: { at: number; fn: () => void; id: number }[] = [];
  private next = 1;
  now = () => this.t;
  random = () => 1;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimeout = (id: unknown) => {
    this.timers = this.timers.filter((t) => t.id !== id);
  };
  advance(ms: number) {
    this.t += ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= this.t).sort((a, b) => a.at - b.at)[0];
      if (!due) return;
      this.timers = this.timers.filter((t) => t !== due);
      due.fn();
    }
  }
}

function harness(probe?: () => Promise<LinkExpired | null>) {
  const sockets: FakeSocket[] = [];
  const states: TrackingState[] = [];
  const clock = new FakeClock();
  const connection = new TrackingConnection({
    url: liveUrl("https://t.example", "tok", "gcj02"),
    connect: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    initial: initialTracking("o-1"),
    onState: (s) => states.push(s),
    clock,
    pingMs: 0,
    reconnect: { baseMs: 1000, capMs: 4000 },
    ...(probe ? { probeExpired: probe } : {}),
  });
  return { sockets, states, clock, connection };
}

const push = (offset: number) => ({
  type: "push",
  channel: "order:o-1",
  offset,
  frame: { kind: "status", orderId: "o-1", status: "picked_up", at: offset },
});

describe("tracking connection", () => {
  it("subscribes on open and resumes from the last offset after a drop", () => {
    const { sockets, clock, connection } = harness();
    connection.start();
    expect(sockets[0]!.url).toBe("wss://t.example/ws/live?token=tok&coord=gcj02");
    sockets[0]!.serverOpens();
    expect(sockets[0]!.sent).toEqual([{ type: "subscribe", channel: "order:o-1" }]);
    sockets[0]!.serverSends({
      type: "welcome",
      role: "shopper",
      subject: "u",
      now: 1,
      coord: "gcj02",
    });
    sockets[0]!.serverSends({ type: "subscribed", channel: "order:o-1", offset: 4 });
    sockets[0]!.serverSends(push(5));
    sockets[0]!.serverCloses();
    expect(connection.current.phase).toBe("reconnecting");
    clock.advance(999);
    expect(sockets).toHaveLength(1);
    clock.advance(1);
    expect(sockets).toHaveLength(2);
    sockets[1]!.serverOpens();
    expect(sockets[1]!.sent).toEqual([{ type: "subscribe", channel: "order:o-1", offset: 5 }]);
  });

  it("backs off exponentially up to the cap while the gateway is down", () => {
    const { sockets, clock, connection } = harness();
    connection.start();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      sockets
        .at(-1)!
        .serverSends({ type: "welcome", role: "s", subject: "u", now: 1, coord: "gcj02" });
      sockets.at(-1)!.serverCloses();
      const start = clock.t;
      const count = sockets.length;
      while (sockets.length === count) clock.advance(100);
      delays.push(clock.t - start);
    }
    expect(delays).toEqual([1000, 2000, 4000, 4000, 4000]);
  });

  it("stops for good when the gateway says the token expired", () => {
    const { sockets, clock, connection } = harness();
    connection.start();
    sockets[0]!.serverOpens();
    sockets[0]!.serverSends({ type: "error", code: "token_expired", message: "delivered" });
    expect(connection.current.phase).toBe("expired");
    expect(sockets[0]!.closed).toMatchObject({ code: 1000 });
    sockets[0]!.serverCloses(1000);
    clock.advance(60_000);
    expect(sockets).toHaveLength(1);
  });

  it("asks the probe when a socket closes before welcome, and expires when it says so", async () => {
    const { sockets, clock, connection } = harness(async () => ({
      reason: "forbidden",
      message: null,
    }));
    connection.start();
    sockets[0]!.serverCloses(1006);
    await Promise.resolve();
    await Promise.resolve();
    expect(connection.current.expired).toEqual({ reason: "forbidden", message: null });
    clock.advance(60_000);
    expect(sockets).toHaveLength(1);
  });
});

describe("expiredFromResponse", () => {
  it("reads the reason of a 401/403 and ignores other statuses", () => {
    expect(expiredFromResponse(401, { code: "token_expired", message: "gone" })).toEqual({
      reason: "token_expired",
      message: "gone",
    });
    expect(expiredFromResponse(403, { error: { code: "wrong_order", message: "no" } })).toEqual({
      reason: "wrong_order",
      message: "no",
    });
    expect(expiredFromResponse(403, "nope")).toEqual({ reason: "forbidden", message: null });
    expect(expiredFromResponse(500, {})).toBeNull();
  });
});
