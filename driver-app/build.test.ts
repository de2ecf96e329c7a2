import { describe, expect, it } from "vitest";
import { buildDriverApp } from "./build.ts";

describe("buildDriverApp", () => {
  it("bundles the page, its script and its stylesheet in memory", async () => {
    const app = await buildDriverApp({ gatewayUrl: "https://gw.example.cn" });
    const names = Object.keys(app.assets);
    const js = names.find((name) => name.endsWith(".js"));
    const css = names.find((name) => name.endsWith(".css"));
    expect(app.html).toContain(`src="/driver/${js}"`);
    expect(app.html).toContain(`href="/driver/${css}"`);
    expect(app.html).toContain('"gatewayUrl":"https://gw.example.cn"');
    expect(app.html).toContain("鲜达骑手");
    expect(app.assets[js ?? ""]?.contentType).toBe("text/javascript; charset=utf-8");
    expect(String(app.assets[css ?? ""]?.body)).toContain(".leaflet-container");
  });

  it("cannot be made to close the config script from an option", async () => {
    const app = await buildDriverApp({ gatewayUrl: "</script><script>alert(1)</script>" });
    expect(app.html).not.toContain("</script><script>alert(1)");
  });
});
