import { readFile } from "node:fs/promises";
import { connect, credsAuthenticator } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";

export interface NatsOptions {
  /** Comma-separated server URLs, e.g. "nats://127.0.0.1:4222". */
  servers: string;
  /** Connection name shown by the server's monitoring. */
  name: string;
  /** Credentials file for NATS accounts (production); none on loopback. */
  credentialsFile?: string;
}

/** Connects and keeps reconnecting for ever: a process outlives a NATS restart. */
export async function connectNats(options: NatsOptions): Promise<NatsConnection> {
  const authenticator = options.credentialsFile
    ? credsAuthenticator(new Uint8Array(await readFile(options.credentialsFile)))
    : undefined;
  return connect({
    servers: options.servers.split(",").map((s) => s.trim()),
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 10_000,
    ...(authenticator ? { authenticator } : {}),
  });
}
