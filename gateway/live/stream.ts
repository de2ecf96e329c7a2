/**
 * Reading the PUSH stream by subject with direct gets (the stream has `allow_direct`), so a
 * resuming client's frames come from whichever replica answers, without a consumer per client.
 */
import type { JetStreamManager } from "@nats-io/jetstream";
import type { Topology } from "../../nats/index.ts";
import { parseChannel } from "../../protocol/index.ts";

export interface StoredPush {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
}

export class PushStream {
  readonly #jsm: Promise<JetStreamManager>;
  readonly #topology: Topology;

  constructor(jsm: Promise<JetStreamManager>, topology: Topology) {
    this.#jsm = jsm;
    this.#topology = topology;
  }

  /** `push.<kind>.<id>` of a channel `<kind>:<id>`. */
  subjectOf(channel: string): string {
    const parsed = parseChannel(channel);
    if (!parsed) throw new TypeError(`not a channel: ${channel}`);
    return this.#topology.subjects.push(parsed.kind, parsed.id);
  }

  /** The channel's first frame with a sequence above `after`, or null. */
  async next(channel: string, after: number): Promise<StoredPush | null> {
    const jsm = await this.#jsm;
    const msg = await jsm.direct.getMessage(this.#topology.streams.push, {
      seq: after + 1,
      next_by_subj: this.subjectOf(channel),
    });
    return msg ? { seq: msg.seq, subject: msg.subject, data: msg.data } : null;
  }

  /** The channel's latest frame, or null when it has none. */
  async last(channel: string): Promise<StoredPush | null> {
    const jsm = await this.#jsm;
    const msg = await jsm.direct.getMessage(this.#topology.streams.push, {
      last_by_subj: this.subjectOf(channel),
    });
    return msg ? { seq: msg.seq, subject: msg.subject, data: msg.data } : null;
  }
}
