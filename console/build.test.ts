import { describe, expect, it } from "vitest";
import { buildConsoleApp } from "./build.ts";

describe("buildConsoleApp", () => {
  it("bundles the console with no tile server by default", async () => {
    const app = await buildConsoleApp();
    const js = Object.keys(app.assets).find((name) => name.endsWith(".js"));
    expect(app.html).toContain(`src="/console/${js}"`);
    expect(app.html).toContain('"tileUrl":null');
    expect(app.html).toContain("鲜达调度台");
  });

  it("takes a tile URL template", async () => {
    const app = await buildConsoleApp({ tileUrl: "https://tiles.example.cn/{z}/{x}/{y}.png" });
    expect(app.html).toContain('"tileUrl":"https://tiles.example.cn/{z}/{x}/{y}.png"');
  });
});
