import { describe, expect, it } from "vitest";
import { fetchOrderContact, refusalOf, setShift } from "./api.ts";
import type { Fetch } from "./api.ts";

function answering(status: number, body: unknown, seen: Array<[string, RequestInit]> = []): Fetch {
  return async (input, init) => {
    seen.push([input, init ?? {}]);
    return new Response(body === null ? null : JSON.stringify(body), { status });
  };
}

describe("setShift", () => {
  it("posts {on} with the courier's token", async () => {
    const seen: Array<[string, RequestInit]> = [];
    expect(await setShift("http://gw", "tok", true, answering(200, { ok: true }, seen))).toEqual({
      ok: true,
    });
    const [url, init] = seen[0] ?? ["", {}];
    expect(url).toBe("http://gw/v1/couriers/me/shift");
    expect(init.method).toBe("POST");
    expect(JSON.parse(String(init.body))).toEqual({ on: true });
    expect((init.headers as Record<string, string>)["authorization"]).toBe("Bearer tok");
  });

  it("returns the actor's refusal code", async () => {
    const body = { error: { code: "has_active_jobs", message: "order o1 is picked up" } };
    expect(await setShift("", "tok", false, answering(409, body))).toEqual({
      ok: false,
      code: "has_active_jobs",
      message: "order o1 is picked up",
    });
  });

  it("names an expired token and a lost network", async () => {
    expect(await setShift("", "tok", true, answering(401, null))).toMatchObject({
      code: "unauthorized",
    });
    const offline: Fetch = async () => {
      throw new TypeError("Failed to fetch");
    };
    expect(await setShift("", "tok", true, offline)).toMatchObject({ code: "network_error" });
  });
});

describe("refusalOf", () => {
  it("reads the code wherever the gateway put it", () => {
    expect(refusalOf({ code: "not_on_shift" })?.code).toBe("not_on_shift");
    expect(refusalOf({ refusal: { code: "forbidden", message: "no" } })?.code).toBe("forbidden");
    expect(refusalOf({ error: "invalid_transition", message: "twice" })).toEqual({
      code: "invalid_transition",
      message: "twice",
    });
    expect(refusalOf({ error: "Something broke" })).toBeNull();
    expect(refusalOf("text")).toBeNull();
  });
});

describe("fetchOrderContact", () => {
  it("reads the masked contact and the address the gateway shows while the order is yours", async () => {
    const seen: Array<[string, RequestInit]> = [];
    const body = {
      orderId: "o1",
      addressShown: true,
      contact: {
        name: "张*",
        phone: "138****1234",
        address: "云南省昆明市五华区翠湖南路12号",
        doorNote: "放门口",
        masked: true,
        fullAddress: true,
      },
    };
    expect(await fetchOrderContact("http://gw", "tok", "o1", answering(200, body, seen))).toEqual({
      name: "张*",
      phone: "138****1234",
      address: "云南省昆明市五华区翠湖南路12号",
      doorNote: "放门口",
    });
    expect(seen[0]?.[0]).toBe("http://gw/v1/couriers/me/orders/o1");
    expect((seen[0]?.[1].headers as Record<string, string>)["authorization"]).toBe("Bearer tok");
  });

  it("gives null for no contact, an unavailable one, a refusal or no network", async () => {
    expect(await fetchOrderContact("http://gw", "t", "o1", answering(200, { contact: null }))).toBe(
      null,
    );
    const unavailable = { contact: { unavailable: "pii_key_unknown" } };
    expect(await fetchOrderContact("http://gw", "t", "o1", answering(200, unavailable))).toBe(null);
    const refused = { error: { code: "not_assigned_courier", message: "not yours" } };
    expect(await fetchOrderContact("http://gw", "t", "o1", answering(403, refused))).toBe(null);
    const offline: Fetch = async () => {
      throw new TypeError("network");
    };
    expect(await fetchOrderContact("http://gw", "t", "o1", offline)).toBe(null);
  });

  it("keeps a hidden address hidden (null, not an empty line)", async () => {
    const body = { contact: { name: "张*", phone: "138****1234", address: null, doorNote: null } };
    expect(await fetchOrderContact("http://gw", "t", "o1", answering(200, body))).toEqual({
      name: "张*",
      phone: "138****1234",
      address: null,
      doorNote: null,
    });
  });
});
