import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.ts";
import { ReconnectingSocket } from "./socket.ts";
import type { SocketStatus } from "./socket.ts";
import { FakeSocket, ManualTimers } from "./testing.ts";

function harness() {
  const timers = new ManualTimers();
  const sockets: FakeSocket[] = [];
  const statuses: SocketStatus[] = [];
  const welcomes: number[] = [];
  const socket = new ReconnectingSocket({
    url: "ws://gw/ws/driver?token=t",
    timers,
    backoff: new Backoff({ random: () => 0.999999 }),
    createSocket: (url) => {
      const fake = new FakeSocket(url);
      sockets.push(fake);
      return fake;
    },
    onWelcome: (frame) => welcomes.push(frame.now),
    onStatus: (status) => statuses.push(status),
  });
  const last = (): FakeSocket => {
    const fake = sockets.at(-1);
    if (fake === undefined) throw new Error("no socket yet");
    return fake;
  };
  return { timers, sockets, statuses, welcomes, socket, last };
}

describe("ReconnectingSocket", () => {
  it("is ready only after the gateway's welcome", () => {
    const { socket, last, welcomes } = harness();
    socket.start();
    expect(socket.ready).toBe(false);
    expect(socket.send({ type: "ping" })).toBe(false);
    last().open();
    expect(socket.ready).toBe(true);
    expect(welcomes).toHaveLength(1);
    expect(socket.send({ type: "ping" })).toBe(true);
    expect(last().sent).toEqual([{ type: "ping" }]);
  });

  it("reconnects after a drop with growing, capped delays", () => {
    const { socket, timers, sockets } = harness();
    socket.start();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      sockets.at(-1)?.drop();
      delays.push(timers.pending()[0] ?? -1);
      timers.advance(delays.at(-1) ?? 0);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 10000, 10000]);
    expect(sockets).toHaveLength(8);
  });

  it("starts the back-off again once a connection has been welcomed", () => {
    const { socket, timers, last } = harness();
    socket.start();
    last().drop();
    timers.advance(500);
    last().drop();
    timers.advance(1000);
    last().open();
    last().drop();
    expect(timers.pending()).toEqual([500]);
  });

  it("stops retrying when the gateway refuses the token", () => {
    const { socket, timers, last, statuses } = harness();
    socket.start();
    last().drop(4001);
    expect(statuses.at(-1)).toBe("unauthorized");
    expect(timers.pending()).toEqual([]);
  });

  it("comes straight back when told to resync, then backs off as usual", () => {
    const { socket, timers, last } = harness();
    socket.start();
    last().open();
    last().drop(4008);
    expect(timers.pending()).toEqual([0]);
    timers.advance(0);
    last().drop();
    expect(timers.pending()).toEqual([500]);
  });

  it("stops retrying on an unauthorized error frame", () => {
    const { socket, timers, last, statuses } = harness();
    socket.start();
    last().open();
    last().deliver({ type: "error", code: "unauthorized", message: "bad token" });
    expect(statuses.at(-1)).toBe("unauthorized");
    expect(timers.pending()).toEqual([]);
  });

  it("stays open when one channel's subscribe is refused", () => {
    const { socket, last, statuses } = harness();
    socket.start();
    last().open();
    last().deliver({
      type: "error",
      code: "forbidden",
      message: "the market of courier:c9 is not known",
      ref: "courier:c9",
    });
    expect(statuses.at(-1)).toBe("open");
    expect(socket.ready).toBe(true);
  });

  it("pings while open and drops a connection that has gone silent", () => {
    const { socket, timers, last, sockets } = harness();
    socket.start();
    last().open();
    timers.advance(15_000);
    expect(last().sent).toEqual([{ type: "ping", id: "hb-1" }]);
    timers.advance(45_000);
    // A minute without a word (no pong either): the socket is closed and a new one is coming.
    expect(sockets[0]?.closedWith).not.toBeNull();
    timers.advance(500);
    expect(sockets).toHaveLength(2);
  });

  it("ignores frames that are not valid protocol", () => {
    const received: unknown[] = [];
    const timers = new ManualTimers();
    let fake: FakeSocket | null = null;
    const socket = new ReconnectingSocket({
      url: "ws://gw",
      timers,
      createSocket: (url) => (fake = new FakeSocket(url)),
      onFrame: (frame) => received.push(frame),
    });
    socket.start();
    const opened = fake as unknown as FakeSocket;
    opened.open();
    opened.onmessage?.({ data: "not json" });
    opened.deliver({ type: "push", channel: "nope", offset: 1, frame: {} });
    opened.deliver({ type: "pong", now: 5 });
    expect(received.map((frame) => (frame as { type: string }).type)).toEqual(["welcome", "pong"]);
  });

  it("comes back after a deliberate drop, when told to", () => {
    const { socket, timers, last, sockets, welcomes } = harness();
    socket.start();
    last().open();
    socket.drop(2_000);
    expect(socket.status).toBe("waiting");
    timers.advance(1_999);
    expect(sockets).toHaveLength(1);
    timers.advance(1);
    last().open();
    expect(welcomes).toHaveLength(2);
  });

  it("stays down after stop", () => {
    const { socket, timers, last, sockets } = harness();
    socket.start();
    last().open();
    socket.stop();
    timers.advance(60_000);
    expect(sockets).toHaveLength(1);
    expect(socket.status).toBe("stopped");
  });
});
