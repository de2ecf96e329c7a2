import { describe, expect, it } from "vitest";
import { ageText, clockTime, dateTime, statusText, translator } from "./i18n.ts";

describe("console i18n", () => {
  it("speaks Chinese first, English on request", () => {
    expect(statusText(translator("zh"), "busy")).toBe("配送中");
    expect(statusText(translator("en"), "busy")).toBe("Delivering");
  });

  it("says how long ago a courier was seen", () => {
    const t = translator("zh");
    expect(ageText(t, { unit: "now" })).toBe("刚刚");
    expect(ageText(t, { unit: "seconds", value: 12 })).toBe("12 秒前");
    expect(ageText(translator("en"), { unit: "minutes", value: 3 })).toBe("3 min ago");
  });

  it("shows Beijing time", () => {
    expect(clockTime("zh", 1_700_000_000_000)).toBe("06:13:20");
    expect(dateTime("zh", 1_700_000_000_000)).toContain("11/15");
  });
});
