import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OsrmClient, OsrmError } from "./index.ts";
import type { LatLng } from "./index.ts";

/**
 * Recorded responses are served by an injected `fetch` (no server), which also records the
 * URLs asked for; the only server is a local one that accepts and never answers, standing in for
 * an OSRM that hangs.
 */
function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));
}

function recorded(body: unknown, status = 200) {
  const urls: string[] = [];
  const fetchFn: typeof fetch = async (input) => {
    urls.push(String(input));
    return new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json" },
    });
  };
  return { urls, fetch: fetchFn };
}

const STORE: LatLng = { lat: 25.0406, lng: 102.7123 };
const DOOR: LatLng = { lat: 25.05, lng: 102.73 };

describe("OsrmClient", () => {
  it("asks /route with lng,lat order, the mode's profile, simplified GeoJSON geometry", async () => {
    const r = recorded(fixture("route-ok.json"));
    const client = new OsrmClient({ baseUrl: "http://osrm.local:5000/", fetch: r.fetch });
    await client.route(STORE, DOOR, "bike");
    expect(r.urls).toEqual([
      "http://osrm.local:5000/route/v1/bike/102.712300,25.040600;102.730000,25.050000?overview=simplified&geometries=geojson",
    ]);
  });

  it("reads duration, distance and geometry from a recorded Ok response", async () => {
    const client = new OsrmClient({
      baseUrl: "http://osrm.local",
      fetch: recorded(fixture("route-ok.json")).fetch,
    });
    const route = await client.route(STORE, DOOR, "bike");
    expect(route).toMatchObject({ seconds: 598.7, meters: 2431.6 });
    expect(route?.geometry?.[0]).toEqual({ lat: 25.040587, lng: 102.712306 });
    expect(route?.geometry).toHaveLength(6);
  });

  it("maps e-bikes to the bike profile with faster durations, vans to car", async () => {
    const r = recorded(fixture("route-ok.json"));
    const client = new OsrmClient({ baseUrl: "http://osrm.local", fetch: r.fetch });
    const ebike = await client.route(STORE, DOOR, "ebike");
    await client.route(STORE, DOOR, "van");
    await client.route(STORE, DOOR, "foot");
    expect(r.urls.map((u) => new URL(u).pathname.split("/")[3])).toEqual(["bike", "car", "foot"]);
    expect(ebike?.seconds).toBeCloseTo(598.7 * 0.8, 6);
  });

  it("uses a per-mode server and profile names when configured", async () => {
    const r = recorded(fixture("route-ok.json"));
    const client = new OsrmClient({
      baseUrl: "http://osrm-car.local",
      baseUrls: { ebike: "http://osrm-bike.local" },
      profiles: { car: "driving" },
      fetch: r.fetch,
    });
    await client.route(STORE, DOOR, "ebike");
    await client.route(STORE, DOOR, "car");
    expect(r.urls[0]).toMatch(/^http:\/\/osrm-bike\.local\/route\/v1\/bike\//);
    expect(r.urls[1]).toMatch(/^http:\/\/osrm-car\.local\/route\/v1\/driving\//);
  });

  it("returns null for NoRoute and says why", async () => {
    const errors: OsrmError[] = [];
    const client = new OsrmClient({
      baseUrl: "http://osrm.local",
      fetch: recorded(fixture("route-noroute.json"), 400).fetch,
      onError: (e) => errors.push(e),
    });
    expect(await client.route(STORE, DOOR, "car")).toBeNull();
    expect(errors[0]).toBeInstanceOf(OsrmError);
    expect(errors[0]).toMatchObject({ kind: "code", code: "NoRoute" });
  });

  it("returns null for an invalid query, an HTTP error page and a body that is not OSRM's", async () => {
    const kinds: string[] = [];
    const onError = (e: OsrmError) => kinds.push(e.kind);
    const base = { baseUrl: "http://osrm.local", onError };
    const invalid = new OsrmClient({
      ...base,
      fetch: recorded(fixture("invalid-query.json"), 400).fetch,
    });
    expect(await invalid.route(STORE, DOOR, "car")).toBeNull();
    const html: typeof fetch = async () =>
      new Response("<html>502 Bad Gateway</html>", { status: 502 });
    expect(await new OsrmClient({ ...base, fetch: html }).route(STORE, DOOR, "car")).toBeNull();
    const odd = new OsrmClient({
      ...base,
      fetch: recorded({ code: "Ok", routes: [{ duration: "soon" }] }).fetch,
    });
    expect(await odd.route(STORE, DOOR, "car")).toBeNull();
    const empty = new OsrmClient({ ...base, fetch: recorded({ code: "Ok", routes: [] }).fetch });
    expect(await empty.route(STORE, DOOR, "car")).toBeNull();
    expect(kinds).toEqual(["code", "http", "invalid", "invalid"]);
  });

  it("asks /table with sources and destinations indices and both annotations", async () => {
    const r = recorded(fixture("table-ok.json"));
    const client = new OsrmClient({ baseUrl: "http://osrm.local", fetch: r.fetch });
    const sources = [STORE, { lat: 25.0281, lng: 102.7009 }];
    const destinations = [
      { lat: 25.0452, lng: 102.7301 },
      { lat: 24.9994, lng: 102.6807 },
      { lat: 24.9531, lng: 102.6521 },
    ];
    const table = await client.table(sources, destinations, "car");
    const url = new URL(r.urls[0]!);
    expect(url.pathname).toBe(
      "/table/v1/car/102.712300,25.040600;102.700900,25.028100;102.730100,25.045200;102.680700,24.999400;102.652100,24.953100",
    );
    expect(url.searchParams.get("sources")).toBe("0;1");
    expect(url.searchParams.get("destinations")).toBe("2;3;4");
    expect(url.searchParams.get("annotations")).toBe("duration,distance");
    expect(table).toEqual({
      seconds: [
        [412.3, 905.6, null],
        [633.9, 287.1, null],
      ],
      meters: [
        [2689.4, 6120.8, null],
        [4301.2, 1877.5, null],
      ],
    });
  });

  it("returns null for a table whose shape does not match the request", async () => {
    const client = new OsrmClient({
      baseUrl: "http://osrm.local",
      fetch: recorded(fixture("table-ok.json")).fetch,
    });
    expect(await client.table([STORE], [DOOR], "car")).toBeNull();
  });

  describe("against an OSRM that never answers", () => {
    const server = createServer(() => {
      // Accept the request and never answer.
    });
    let url = "";
    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it("gives up after the timeout and returns null", async () => {
      const errors: OsrmError[] = [];
      const client = new OsrmClient({
        baseUrl: url,
        timeoutMs: 200,
        onError: (e) => errors.push(e),
      });
      const started = performance.now();
      expect(await client.route(STORE, DOOR, "ebike")).toBeNull();
      expect(await client.table([STORE], [DOOR], "ebike")).toBeNull();
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(350);
      expect(elapsed).toBeLessThan(3000);
      expect(errors.map((e) => e.kind)).toEqual(["timeout", "timeout"]);
    });
  });

  it("returns null when nothing listens at the address", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const errors: OsrmError[] = [];
    const client = new OsrmClient({
      baseUrl: `http://127.0.0.1:${port}`,
      onError: (e) => errors.push(e),
    });
    expect(await client.route(STORE, DOOR, "car")).toBeNull();
    expect(errors[0]?.kind).toBe("network");
  });
});
