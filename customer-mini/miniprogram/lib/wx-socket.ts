/** The shared connection driver over `wx.connectSocket`. */
import type { LiveSocket, SocketFactory } from "../shared/connection.ts";

export const wxSocketFactory: SocketFactory = (url: string): LiveSocket => {
  const task = wx.connectSocket({ url, tcpNoDelay: true });
  return {
    send: (text) => task.send({ data: text }),
    close: (code, reason) => task.close({ code: code ?? 1000, reason: reason ?? "" }),
    onOpen: (listener) => task.onOpen(() => listener()),
    onMessage: (listener) =>
      task.onMessage((message) => {
        // The gateway sends JSON text frames only.
        if (typeof message.data === "string") listener(message.data);
      }),
    onClose: (listener) => task.onClose((result) => listener(result.code, result.reason)),
    onError: (listener) => task.onError((result) => listener(result.errMsg)),
  };
};
