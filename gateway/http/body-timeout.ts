/**
 * Cuts off a request body that stalls. A client that sends the start of a body (a photo's first
 * bytes) and then nothing would otherwise hold its socket and a handler until the HTTP server's
 * own request time-out, minutes later; many such clients hold the gateway. Here it gets 408
 * `body_timeout` once nothing has come for `idleMs`, and its connection is closed. The clock runs
 * only while the gateway waits for the client's bytes: a slow actor behind the route does not
 * count against the client, and a slow but steady upload is never cut off.
 */
import type { MiddlewareHandler } from "hono";
import { ApiError } from "../errors.ts";
import type { Env } from "./context.ts";

export function bodyIdleTimeout(idleMs: number): MiddlewareHandler<Env> {
  return async (c, next) => {
    const source = c.req.raw.body;
    if (!source) return next();
    const reader = source.getReader();
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          let timer: NodeJS.Timeout | undefined;
          const idle = new Promise<null>((resolve) => {
            timer = setTimeout(resolve, idleMs, null);
          });
          try {
            const chunk = await Promise.race([reader.read(), idle]);
            if (chunk === null) {
              // The error boundary keeps headers set on the context: the socket is not reused.
              c.header("Connection", "close");
              controller.error(
                new ApiError(
                  408,
                  "body_timeout",
                  `the body stalled: nothing came for ${idleMs} ms; send it again`,
                ),
              );
              reader.cancel().catch(() => {});
            } else if (chunk.done) {
              controller.close();
            } else {
              controller.enqueue(chunk.value);
            }
          } catch (err) {
            controller.error(err);
          } finally {
            clearTimeout(timer);
          }
        },
        cancel(reason) {
          return reader.cancel(reason);
        },
      },
      // Pull only when the route reads: time spent before that is the gateway's, not the client's.
      { highWaterMark: 0 },
    );
    c.req.raw = new Request(c.req.raw, { body, duplex: "half" } as RequestInit);
    return next();
  };
}
