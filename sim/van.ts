/**
 * A simulated refrigerated van's temperature logger that is a real client: it publishes its
 * compartments' readings over MQTT to `fleet/vehicle/<vehicleId>/temp` (nats-server's MQTT
 * listener maps the topic to `fleet.vehicle.<vehicleId>.temp`, which the TELEMETRY stream keeps),
 * or, where no MQTT port is open, straight to that NATS subject.
 *
 * The temperature model, per compartment, is first-order (Newton's law of cooling), stepped
 * exactly (T += (target − T)(1 − e^(−dt/τ))):
 * - cooling, door closed: towards the setpoint (plus the thermostat's slow cycle, ± `cycleC`
 *   over `cyclePeriodS`) with τ = `pullDownTauS`;
 * - door open: towards the outside air with τ = `doorTauS` (air warms in seconds, not the goods);
 * - compressor failed (or an ambient compartment, which has no cooling): towards the outside air
 *   through the insulated walls, τ = `wallTauS`.
 * Doors open at random (Poisson, `doorOpensPerMinute` per compartment) for 10-60 s, which takes
 * a frozen compartment's air above −18 °C for a minute or two (a grace period covers it); now
 * and then (`leftOpenChance`) a door is left open for 6-15 minutes, long enough for an
 * excursion. The sensor adds noise (gaussian, σ = `noiseC`/3, clipped at ± `noiseC`) and
 * reports to 0.1 °C.
 *
 * Everything random comes from one seeded PRNG per van (geo/random.ts), so a van with the same
 * seed, id and calls produces the same readings on every machine. `advance` and `read` need no
 * network: tests step the model directly.
 */
import { seededRandom } from "../geo/random.ts";
import type { CompartmentConfig, CompartmentClass } from "../protocol/actors/vehicle.ts";

export interface CompartmentSpec {
  readonly id: string;
  readonly class: CompartmentClass;
  /** What the cooling unit holds; null for an ambient compartment (no cooling). */
  readonly setpointC: number | null;
  /** Only for `custom` compartments: the range the vehicle actor watches. */
  readonly minC?: number;
  readonly maxC?: number;
}

/** A van with four compartments: frozen, chilled, tropical fruit (custom 10-15 °C), ambient. */
export const STANDARD_COMPARTMENTS: readonly CompartmentSpec[] = [
  { id: "F", class: "frozen", setpointC: -20 },
  { id: "C", class: "chilled", setpointC: 2.5 },
  { id: "T", class: "custom", setpointC: 12.5, minC: 10, maxC: 15 },
  { id: "A", class: "ambient", setpointC: null },
];

export interface ThermalOptions {
  /** Outside air (°C). Default 22 (Kunming in the afternoon). */
  readonly outsideC: number;
  /** Time constant of the cooling unit pulling a closed compartment to its setpoint (s). Default 90. */
  readonly pullDownTauS: number;
  /** Time constant of warming towards the outside air through an open door (s). Default 240. */
  readonly doorTauS: number;
  /** Time constant of warming through the walls with no cooling (s). Default 3600. */
  readonly wallTauS: number;
  /** Amplitude of the thermostat's cycle around the setpoint (°C). Default 0.4. */
  readonly cycleC: number;
  /** Period of that cycle (s). Default 600. */
  readonly cyclePeriodS: number;
  /** Sensor noise bound (°C): gaussian with σ = noiseC / 3, clipped at ± noiseC. Default 0.3. */
  readonly noiseC: number;
}

export interface DoorOptions {
  /** Door openings per compartment per minute (Poisson). Default 0.1 (one every 10 minutes). */
  readonly doorOpensPerMinute: number;
  /** Share of openings where the door is left open for 6-15 minutes. Default 0.03. */
  readonly leftOpenChance: number;
}

export const THERMAL_DEFAULTS: ThermalOptions = {
  outsideC: 22,
  pullDownTauS: 90,
  doorTauS: 240,
  wallTauS: 3600,
  cycleC: 0.4,
  cyclePeriodS: 600,
  noiseC: 0.3,
};

export const DOOR_DEFAULTS: DoorOptions = { doorOpensPerMinute: 0.1, leftOpenChance: 0.03 };

/** One compartment reading in the logger's payload (the names telemetry/payload.ts reads). */
export interface VanReading {
  readonly compartment: string;
  readonly celsius: number;
  readonly at: number;
  readonly door?: boolean;
}

/** Where a van's payloads go: an MQTT client, a NATS connection, or a test's array. */
export interface VanTransport {
  /** Publishes one payload of `vehicleId`; resolves when the broker took it (QoS 1: its PUBACK). */
  publish(vehicleId: string, payload: string): Promise<void> | void;
}

export interface SimVanOptions {
  readonly compartments?: readonly CompartmentSpec[];
  /** Seed of the van's PRNG (mixed with its id, so vans with one seed still differ). Default 1. */
  readonly seed?: number;
  readonly thermal?: Partial<ThermalOptions>;
  readonly doors?: Partial<DoorOptions>;
  /** One message per second with every compartment (default), or one message per compartment. */
  readonly perCompartment?: boolean;
  /** Report the door state with each reading. Default true. */
  readonly reportDoor?: boolean;
  /** Wall clock for the readings' `at` (epoch ms) and the model's time. Default Date.now. */
  readonly clock?: () => number;
  readonly transport?: VanTransport;
  /** Called when a publish fails (the van keeps going: a logger buffers or drops, never stops). */
  readonly onError?: (err: unknown) => void;
}

interface CompartmentModel {
  readonly spec: CompartmentSpec;
  celsius: number;
  /** Model time (ms) until which the door stays open; null when closed. */
  doorOpenUntil: number | null;
  failed: boolean;
}

function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The `configure` message's compartments for these specs (graceSeconds for the cooled ones). */
export function compartmentConfigs(
  specs: readonly CompartmentSpec[],
  graceSeconds: number,
): CompartmentConfig[] {
  return specs.map((s) => ({
    id: s.id,
    class: s.class,
    ...(s.class === "custom" ? { minC: s.minC, maxC: s.maxC } : {}),
    graceSeconds,
  }));
}

/** The MQTT topic of a van's logger. */
export function vanTopic(vehicleId: string): string {
  return `fleet/vehicle/${vehicleId}/temp`;
}

/** The NATS subject the MQTT topic maps to (with a namespace, `<ns>.` in front). */
export function vanSubject(vehicleId: string, namespace = ""): string {
  return `${namespace === "" ? "" : `${namespace}.`}fleet.vehicle.${vehicleId}.temp`;
}

/** The part of an MQTT.js client a van uses (structural, so the sim does not tie to a version). */
export interface MqttPublisher {
  publish(
    topic: string,
    payload: string,
    options: { qos: 0 | 1 },
    callback: (err?: Error) => void,
  ): unknown;
}

/** Publishes over MQTT: QoS 1 (default) resolves on the broker's PUBACK. */
export function mqttTransport(client: MqttPublisher, qos: 0 | 1 = 1): VanTransport {
  return {
    publish: (vehicleId, payload) =>
      new Promise<void>((resolve, reject) => {
        client.publish(vanTopic(vehicleId), payload, { qos }, (err) =>
          err ? reject(err) : resolve(),
        );
      }),
  };
}

/** Publishes straight to NATS (core publish; the TELEMETRY stream stores it like an MQTT one). */
export function natsTransport(
  nc: { publish(subject: string, payload?: Uint8Array | string): void },
  namespace = "",
): VanTransport {
  const encoder = new TextEncoder();
  return {
    publish: (vehicleId, payload) =>
      nc.publish(vanSubject(vehicleId, namespace), encoder.encode(payload)),
  };
}

export class SimVan {
  readonly id: string;
  readonly #random: () => number;
  readonly #thermal: ThermalOptions;
  readonly #doors: DoorOptions;
  readonly #compartments: CompartmentModel[];
  readonly #clock: () => number;
  readonly #perCompartment: boolean;
  readonly #reportDoor: boolean;
  readonly #cyclePhase: number;
  #transport: VanTransport | undefined;
  readonly #onError: ((err: unknown) => void) | undefined;
  /** Model time (epoch ms) the state is at. */
  #t: number | null = null;
  #lastAt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  readonly #inFlight = new Set<Promise<void>>();
  /** What this van published (sent, and taken by the broker), what failed, doors opened. */
  readonly stats = {
    messages: 0,
    readings: 0,
    ackedMessages: 0,
    ackedReadings: 0,
    errors: 0,
    doorOpenings: 0,
  };

  constructor(id: string, options: SimVanOptions = {}) {
    this.id = id;
    this.#random = seededRandom(((options.seed ?? 1) ^ hashId(id)) >>> 0);
    this.#thermal = { ...THERMAL_DEFAULTS, ...options.thermal };
    this.#doors = { ...DOOR_DEFAULTS, ...options.doors };
    this.#clock = options.clock ?? Date.now;
    this.#perCompartment = options.perCompartment ?? false;
    this.#reportDoor = options.reportDoor ?? true;
    this.#transport = options.transport;
    this.#onError = options.onError;
    this.#cyclePhase = this.#random() * 2 * Math.PI;
    // Start somewhere in the thermostat's cycle, with the noise of a unit that has been running.
    this.#compartments = (options.compartments ?? STANDARD_COMPARTMENTS).map((spec) => ({
      spec,
      celsius:
        spec.setpointC === null
          ? this.#thermal.outsideC
          : spec.setpointC + (this.#random() - 0.5) * 0.2,
      doorOpenUntil: null,
      failed: false,
    }));
  }

  get compartments(): readonly CompartmentSpec[] {
    return this.#compartments.map((c) => c.spec);
  }

  set transport(transport: VanTransport) {
    this.#transport = transport;
  }

  /** The air temperature the model holds now (no sensor noise). */
  temperature(compartmentId: string): number {
    return this.#compartment(compartmentId).celsius;
  }

  doorOpen(compartmentId: string): boolean {
    return this.#compartment(compartmentId).doorOpenUntil !== null;
  }

  compressorFailed(compartmentId: string): boolean {
    return this.#compartment(compartmentId).failed;
  }

  /** Opens a door for `forMs` from the model's current time (a stop, or a door left open). */
  openDoor(compartmentId: string, forMs: number): void {
    const c = this.#compartment(compartmentId);
    c.doorOpenUntil = this.#now() + forMs;
    this.stats.doorOpenings++;
  }

  /** The cooling stops (all cooled compartments, or those named) until `repairCompressor`. */
  failCompressor(compartmentIds?: readonly string[]): void {
    for (const c of this.#compartments) {
      if (compartmentIds === undefined || compartmentIds.includes(c.spec.id)) c.failed = true;
    }
  }

  repairCompressor(): void {
    for (const c of this.#compartments) c.failed = false;
  }

  /** Moves the model to `now` (epoch ms; default the clock), in steps of at most a second. */
  advance(now = this.#clock()): void {
    if (this.#t === null) {
      this.#t = now;
      return;
    }
    while (this.#t < now) {
      const dt = Math.min(1000, now - this.#t);
      this.#step(this.#t, dt);
      this.#t += dt;
    }
  }

  /** The sensors' readings at the model's current time (noisy, to 0.1 °C), stamped `at`. */
  read(at = this.#nextAt()): VanReading[] {
    return this.#compartments.map((c) => this.#reading(c, c.celsius, at));
  }

  /**
   * Advances the model to now and publishes its readings: one message with every compartment,
   * or one per compartment. Resolves when the broker took them.
   */
  async publishNow(): Promise<void> {
    this.advance();
    const readings = this.read();
    if (this.#perCompartment) {
      await Promise.all(readings.map((r) => this.#publish(JSON.stringify(r), 1)));
    } else {
      await this.#publish(JSON.stringify({ readings }), readings.length);
    }
  }

  /**
   * Publishes one reading of `celsius` for a compartment at once, out of the model (a probe, or
   * a broken sensor): stamped after every reading before it, so the actor takes it as fresh.
   * Returns its `at`.
   */
  async inject(compartmentId: string, celsius: number): Promise<number> {
    const c = this.#compartment(compartmentId);
    const at = this.#nextAt();
    const r: VanReading = {
      compartment: c.spec.id,
      celsius,
      at,
      ...(this.#reportDoor ? { door: c.doorOpenUntil !== null } : {}),
    };
    await this.#publish(JSON.stringify(this.#perCompartment ? r : { readings: [r] }), 1);
    return at;
  }

  /**
   * Publishes every `everyMs` (default 1000) until `stop`, starting after a random part of the
   * period (from the seeded PRNG) so that a fleet does not publish in lockstep.
   */
  start(everyMs = 1000): void {
    if (this.#timer !== null) return;
    this.advance();
    let due = this.#clock() + this.#random() * everyMs;
    const tick = () => {
      const p = this.publishNow().catch((err) => {
        this.stats.errors++;
        this.#onError?.(err);
      });
      this.#inFlight.add(p);
      void p.finally(() => this.#inFlight.delete(p));
      due += everyMs;
      // Catch up without bursts if the event loop was late: skip what was missed.
      const now = this.#clock();
      if (due < now) due = now + everyMs - ((now - due) % everyMs);
      this.#timer = setTimeout(tick, due - now);
    };
    this.#timer = setTimeout(tick, Math.max(0, due - this.#clock()));
  }

  /** Stops publishing and waits for what is in flight. */
  async stop(): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await Promise.all([...this.#inFlight]);
  }

  // ------------------------------------------------------------------------------ internals

  #compartment(id: string): CompartmentModel {
    const c = this.#compartments.find((x) => x.spec.id === id);
    if (c === undefined) throw new RangeError(`van ${this.id} has no compartment ${id}`);
    return c;
  }

  #now(): number {
    if (this.#t === null) this.#t = this.#clock();
    return this.#t;
  }

  /** Strictly increasing reading times: the actor takes a repeated time as a duplicate. */
  #nextAt(): number {
    const at = Math.max(this.#lastAt + 1, Math.round(this.#clock()));
    this.#lastAt = at;
    return at;
  }

  #step(t: number, dtMs: number): void {
    const th = this.#thermal;
    const pOpen = 1 - Math.exp(-(this.#doors.doorOpensPerMinute * dtMs) / 60_000);
    for (const c of this.#compartments) {
      if (c.doorOpenUntil !== null && c.doorOpenUntil <= t) c.doorOpenUntil = null;
      if (c.doorOpenUntil === null && pOpen > 0 && this.#random() < pOpen) {
        const leftOpen = this.#random() < this.#doors.leftOpenChance;
        const seconds = leftOpen ? 360 + this.#random() * 540 : 10 + this.#random() * 50;
        c.doorOpenUntil = t + seconds * 1000;
        this.stats.doorOpenings++;
      }
      let target: number;
      let tauS: number;
      if (c.doorOpenUntil !== null) {
        target = th.outsideC;
        tauS = th.doorTauS;
      } else if (c.spec.setpointC === null || c.failed) {
        target = th.outsideC;
        tauS = th.wallTauS;
      } else {
        const cycle = Math.sin((2 * Math.PI * t) / (th.cyclePeriodS * 1000) + this.#cyclePhase);
        target = c.spec.setpointC + th.cycleC * cycle;
        tauS = th.pullDownTauS;
      }
      c.celsius += (target - c.celsius) * (1 - Math.exp(-dtMs / (tauS * 1000)));
    }
  }

  #noise(): number {
    const bound = this.#thermal.noiseC;
    if (bound <= 0) return 0;
    // Box-Muller from the van's PRNG.
    const u = Math.max(this.#random(), Number.EPSILON);
    const v = this.#random();
    const g = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.max(-bound, Math.min(bound, (g * bound) / 3));
  }

  #reading(c: CompartmentModel, celsius: number, at: number): VanReading {
    const value = Math.round((celsius + this.#noise()) * 10) / 10;
    return {
      compartment: c.spec.id,
      celsius: Object.is(value, -0) ? 0 : value,
      at,
      ...(this.#reportDoor ? { door: c.doorOpenUntil !== null } : {}),
    };
  }

  async #publish(payload: string, readings: number): Promise<void> {
    const transport = this.#transport;
    if (transport === undefined) throw new Error(`van ${this.id} has no transport`);
    this.stats.messages++;
    this.stats.readings += readings;
    await transport.publish(this.id, payload);
    this.stats.ackedMessages++;
    this.stats.ackedReadings += readings;
  }
}
