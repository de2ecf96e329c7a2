/** Named errors of the nats/ module; callers test with `instanceof`, never by message text. */

/** JetStream refused a publish: wrong expected sequence, message too large, no stream... */
export class PublishRefusedError extends Error {
  override readonly name = "PublishRefusedError";
  constructor(
    readonly subject: string,
    /** JetStream's API error code, e.g. 10071 (wrong last sequence), 10054 (message too large). */
    readonly errCode: number,
    readonly description: string,
  ) {
    super(`publish to ${subject} refused: ${description} (${errCode})`);
  }
  /** The compare-and-set failed: someone else wrote first. */
  get isWrongLastSequence(): boolean {
    return this.errCode === JS_WRONG_LAST_SEQUENCE;
  }
}

/** No PubAck arrived in time; the message may or may not be stored (retry with the same id). */
export class PublishTimeoutError extends Error {
  override readonly name: string = "PublishTimeoutError";
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
    message = `no ack for publish to ${subject} within ${timeoutMs} ms`,
  ) {
    super(message);
  }
}

/**
 * The connection dropped while a publish waited for its ack: the ack cannot come any more (the
 * message may or may not be stored). Retry with the same `Nats-Msg-Id`, at once.
 */
export class PublishInterruptedError extends PublishTimeoutError {
  override readonly name = "PublishInterruptedError";
  constructor(subject: string) {
    super(subject, 0, `the connection dropped before the ack for ${subject}; it may be stored`);
  }
}

/** The stream topology on the server does not match what this code needs and cannot be fixed. */
export class TopologyError extends Error {
  override readonly name: string = "TopologyError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A service checking the topology found part of it missing (not yet applied): worth waiting for,
 * unlike a topology that differs.
 */
export class TopologyMissingError extends TopologyError {
  override readonly name = "TopologyMissingError";
}

export const JS_WRONG_LAST_SEQUENCE = 10071;
export const JS_MESSAGE_TOO_LARGE = 10054;
