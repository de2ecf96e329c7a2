/**
 * Where given-up deliveries go. The project has no table for them yet, so by default they are
 * kept in a JetStream KV bucket of their own (one key per store and delivery, kept until
 * deleted): durable, visible with `nats kv ls`, and replayable by reading them back.
 */
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { DeadLetter, WebhookDeadLetters } from "./types.ts";

/**
 * The dead-letter bucket of a deployment: `webhook_dead`, prefixed with its namespace. Named in
 * nats/ because the NATS permissions (nats/permissions.ts) and `npm run nats:setup` need it too.
 */
export { deadLetterBucket } from "../../nats/index.ts";

/** Dead letters in a KV bucket (created if missing), keyed `<storeId>.<deliveryId>`. */
export function kvDeadLetters(
  nc: NatsConnection,
  bucket: string,
  replicas = 1,
): WebhookDeadLetters {
  let kv: Promise<KV> | null = null;
  const open = () =>
    (kv ??= new Kvm(nc)
      .create(bucket, {
        history: 1,
        storage: "file",
        replicas,
        description: "xianda: webhook deliveries given up on",
      })
      .catch((err: unknown) => {
        kv = null;
        throw err;
      }));
  return {
    async record(letter) {
      await (await open()).put(`${letter.storeId}.${letter.deliveryId}`, JSON.stringify(letter));
    },
    async list() {
      const store = await open();
      const letters: DeadLetter[] = [];
      for await (const key of await store.keys()) {
        const entry = await store.get(key);
        if (entry?.operation === "PUT") letters.push(entry.json<DeadLetter>());
      }
      return letters.sort((a, b) => a.at - b.at);
    },
  };
}

/** Dead letters in memory (tests, a demo without NATS persistence). */
export function memoryDeadLetters(): WebhookDeadLetters & { readonly letters: DeadLetter[] } {
  const letters: DeadLetter[] = [];
  return {
    letters,
    async record(letter) {
      letters.push(letter);
    },
    async list() {
      return [...letters];
    },
  };
}
