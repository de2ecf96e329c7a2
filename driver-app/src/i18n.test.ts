import { describe, expect, it } from "vitest";
import { clockTime, preferredLang, refusalText, rejectionText, translator } from "./i18n.ts";

describe("i18n", () => {
  it("speaks Chinese unless English was chosen", () => {
    expect(preferredLang(null)).toBe("zh");
    expect(preferredLang("en")).toBe("en");
    expect(translator("zh")("shift.start")).toBe("上班");
    expect(translator("en")("shift.start")).toBe("Start shift");
  });

  it("fills in variables", () => {
    expect(translator("zh")("conn.waiting", { seconds: 4 })).toBe("已断开，4 秒后重连");
  });

  it("translates refusal codes and shows unknown ones as they are", () => {
    const t = translator("zh");
    expect(refusalText(t, "has_active_jobs")).toBe("还有未完成的订单，暂不能下班");
    expect(refusalText(t, "weird_code")).toBe("操作被拒绝（weird_code）");
    expect(rejectionText(t, "impossible_jump")).toBe("位置跳变过大");
    expect(rejectionText(t, "low_accuracy")).toBe("定位精度太低");
    expect(rejectionText(t, "new_code")).toBe("new_code");
  });

  it("shows times on Beijing time whatever the device's zone", () => {
    // 2023-11-14T22:13:20Z is 06:13:20 the next morning in Kunming.
    expect(clockTime("zh", 1_700_000_000_000)).toBe("06:13:20");
  });
});
