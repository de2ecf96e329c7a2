// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { translator } from "./i18n.ts";
import { contactBlock } from "./screens.ts";

describe("the shopper's contact on a drop-off", () => {
  const t = translator("zh");

  it("shows the masked name and phone, the address and the door note while the order is yours", () => {
    const block = contactBlock(
      {
        name: "张*",
        phone: "138****1234",
        address: "云南省昆明市五华区翠湖南路12号",
        doorNote: "放门口",
      },
      t,
    );
    expect(block.querySelector(".contact-who")?.textContent).toBe("收货人 张* · 138****1234");
    expect(block.querySelector(".contact-address")?.textContent).toBe(
      "地址：云南省昆明市五华区翠湖南路12号",
    );
    expect(block.querySelector(".contact-note")?.textContent).toBe("备注：放门口");
    expect(block.textContent).toContain("号码已隐藏");
  });

  it("shows no address line when the gateway hides it", () => {
    const block = contactBlock(
      { name: "张*", phone: "138****1234", address: null, doorNote: null },
      t,
    );
    expect(block.querySelector(".contact-address")).toBeNull();
    expect(block.querySelector(".contact-note")).toBeNull();
    expect(translator("en")("contact.who", { name: "张*", phone: "138****1234" })).toBe(
      "Shopper 张* · 138****1234",
    );
  });
});
