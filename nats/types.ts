/** An actor's address as the topology sees it (the actor runtime's `ActorRef` has this shape). */
export interface ActorAddress {
  readonly type: string;
  readonly id: string;
}

/** JetStream's acknowledgement of a stored message. */
export interface PubAck {
  readonly stream: string;
  readonly seq: number;
  /** True when the message id was seen inside the duplicate window: nothing new was stored. */
  readonly duplicate: boolean;
}
