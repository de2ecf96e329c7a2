/** Named errors of the actor runtime. */

/** A state write was refused: another host wrote this actor since we read it. */
export class StaleWriteError extends Error {
  override readonly name = "StaleWriteError";
  constructor(
    readonly key: string,
    readonly expectedRevision: number,
    options?: ErrorOptions,
  ) {
    super(`state of ${key} moved past revision ${expectedRevision}`, options);
  }
}

/** The command could not be stored in the log (too large, no stream, refused by the server). */
export class CommandRejectedError extends Error {
  override readonly name = "CommandRejectedError";
  constructor(
    readonly code: "too_large" | "invalid_command" | "no_stream" | "refused",
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** No answer from the actor in time (it may still apply the command: it is in the log). */
export class ActorTimeoutError extends Error {
  override readonly name = "ActorTimeoutError";
  constructor(message: string) {
    super(message);
  }
}
