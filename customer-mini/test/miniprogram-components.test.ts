// @vitest-environment jsdom
import { join } from "node:path";
import simulate from "miniprogram-simulate";
import { beforeAll, describe, expect, it } from "vitest";
import { buildMiniprogram } from "../scripts/build-miniprogram.ts";

let root = "";

beforeAll(() => {
  root = buildMiniprogram();
});

function render(component: string, props: Record<string, unknown>) {
  const id = simulate.load(join(root, "components", component, "index"), { rootPath: root });
  const comp = simulate.render(id, props);
  comp.attach(document.createElement("parent-wrapper"));
  return comp;
}

const text = (comp: ReturnType<typeof render>, selector: string) =>
  comp.querySelector(selector)?.dom?.textContent ?? null;

describe("eta-card", () => {
  it("shows the window and the minutes left", () => {
    const comp = render("eta-card", {
      text: "预计 12:40–12:52 送达",
      minutes: "约 10 分钟",
      known: true,
      done: false,
    });
    expect(text(comp, ".eta-text")).toBe("预计 12:40–12:52 送达");
    expect(text(comp, ".eta-minutes")).toBe("约 10 分钟");
    expect(comp.dom?.innerHTML).not.toContain("eta-unknown");
  });

  it("shows a muted line and no minutes while the ETA is not known", () => {
    const comp = render("eta-card", { text: "正在计算送达时间", minutes: "", known: false });
    expect(text(comp, ".eta-text")).toBe("正在计算送达时间");
    expect(comp.querySelector(".eta-minutes")).toBeFalsy();
    expect(comp.dom?.innerHTML).toContain("eta-unknown");
  });
});

describe("status-timeline", () => {
  it("renders each milestone with its state and time", () => {
    const comp = render("status-timeline", {
      steps: [
        { key: "placed", label: "已下单", time: "12:10", state: "done" },
        { key: "courier", label: "骑手已接单", time: "12:21", state: "current" },
        { key: "delivered", label: "已送达", time: "", state: "todo" },
      ],
    });
    const steps = comp.querySelectorAll(".step");
    expect(steps).toHaveLength(3);
    expect(steps.map((s) => s.dom?.textContent?.replace(/\s+/g, ""))).toEqual([
      "已下单12:10",
      "骑手已接单12:21",
      "已送达",
    ]);
    expect(comp.querySelector(".step-current .label")?.dom?.textContent).toBe("骑手已接单");
  });

  it("shows a failed final step", () => {
    const comp = render("status-timeline", {
      steps: [{ key: "cancelled", label: "已取消", time: "12:30", state: "failed" }],
    });
    expect(comp.querySelector(".step-failed .label")?.dom?.textContent).toBe("已取消");
  });
});

describe("temp-badge", () => {
  it("shows an in-range reading", () => {
    const comp = render("temp-badge", {
      badge: { state: "in_range", label: "冷藏 2.5°C", verdict: "温度正常" },
    });
    expect(comp.querySelector(".badge-in_range")).toBeTruthy();
    expect(text(comp, ".label")).toBe("冷藏 2.5°C");
    expect(text(comp, ".verdict")).toBe("温度正常");
  });

  it("shows an excursion", () => {
    const comp = render("temp-badge", {
      badge: { state: "excursion", label: "冷冻 -9.0°C", verdict: "温度异常" },
    });
    expect(comp.querySelector(".badge-excursion")).toBeTruthy();
    expect(text(comp, ".verdict")).toBe("温度异常");
  });

  it("renders nothing for an ambient order", () => {
    const comp = render("temp-badge", { badge: null });
    expect(comp.querySelector(".badge")).toBeFalsy();
  });
});
