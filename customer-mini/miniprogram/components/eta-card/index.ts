/** The ETA window, e.g. "预计 12:40–12:52 送达" with "约 10 分钟" beside it. */
Component({
  properties: {
    text: { type: String, value: "" },
    minutes: { type: String, value: "" },
    known: { type: Boolean, value: false },
    done: { type: Boolean, value: false },
  },
});
