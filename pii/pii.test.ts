import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EncryptedContact, PiiCiphertext } from "../protocol/actors/order.ts";
import {
  PiiAuthenticationError,
  PiiCipher,
  PiiFormatError,
  PiiKeyringError,
  UnknownPiiKeyError,
  decryptContact,
  encryptContact,
  loadKeyring,
  maskAddress,
  maskName,
  maskPhone,
  newKeyringEntry,
  parseKeyring,
} from "./index.ts";

const K1 = newKeyringEntry("k1");
const K2 = newKeyringEntry("k2");
const at = { recordId: "o-1", field: "shopper_phone" };

describe("pii cipher", () => {
  const cipher = new PiiCipher(parseKeyring(K1));

  it("round-trips a value, and two encryptions of it differ (fresh IV)", () => {
    const a = cipher.encrypt("13812341234", at);
    const b = cipher.encrypt("13812341234", at);
    expect(a).not.toBe(b);
    expect(a).not.toContain("13812341234");
    expect(cipher.decrypt(a, at)).toBe("13812341234");
    expect(cipher.decrypt(b, at)).toBe("13812341234");
    expect(cipher.decrypt(cipher.encrypt("云南省昆明市五华区翠湖南路12号 🏠", at), at)).toBe(
      "云南省昆明市五华区翠湖南路12号 🏠",
    );
  });

  it("writes the format the order actor's schema accepts, naming the current key", () => {
    const ct = cipher.encrypt("张三", at);
    expect(ct).toMatch(/^v1\.k1\./);
    expect(PiiCiphertext.safeParse(ct).success).toBe(true);
    expect(cipher.keyIdOf(ct)).toBe("k1");
  });

  it("does not decrypt under another order or another field (associated data)", () => {
    const ct = cipher.encrypt("13812341234", at);
    expect(() => cipher.decrypt(ct, { ...at, recordId: "o-2" })).toThrow(PiiAuthenticationError);
    expect(() => cipher.decrypt(ct, { ...at, field: "shopper_name" })).toThrow(
      PiiAuthenticationError,
    );
    // Ids and fields that would concatenate to the same string still differ.
    const odd = cipher.encrypt("x", { recordId: "o-1/a", field: "b" });
    expect(() => cipher.decrypt(odd, { recordId: "o-1", field: "a/b" })).toThrow(
      PiiAuthenticationError,
    );
  });

  it("detects tampering with the ciphertext, the IV or the tag", () => {
    const ct = cipher.encrypt("13812341234", at);
    const parts = ct.split(".");
    const flip = (s: string) => {
      const bytes = Buffer.from(s, "base64url");
      bytes[0] = bytes[0]! ^ 1;
      return bytes.toString("base64url");
    };
    for (const i of [2, 3, 4]) {
      const bad = parts.map((p, j) => (j === i ? flip(p) : p)).join(".");
      expect(() => cipher.decrypt(bad, at), `part ${i}`).toThrow(PiiAuthenticationError);
    }
    // A truncated ciphertext (a shorter phone number) does not authenticate either.
    const shorter = [...parts.slice(0, 3), parts[3]!.slice(0, -2), parts[4]].join(".");
    expect(() => cipher.decrypt(shorter, at)).toThrow(PiiAuthenticationError);
  });

  it("names an unknown key id, and refuses what is not a ciphertext", () => {
    const other = new PiiCipher(parseKeyring(K2));
    const ct = other.encrypt("13812341234", at);
    expect(() => cipher.decrypt(ct, at)).toThrow(UnknownPiiKeyError);
    try {
      cipher.decrypt(ct, at);
    } catch (err) {
      expect((err as UnknownPiiKeyError).kid).toBe("k2");
    }
    for (const bad of ["13812341234", "", "v2.k1.a.b.c", "v1..AAAA.BB.CC", "v1.k1.AA.BB.CC"]) {
      expect(() => cipher.decrypt(bad, at), bad).toThrow(PiiFormatError);
    }
  });

  it("rotates: a new key first in the ring encrypts, the old one still decrypts, rotate re-encrypts once", () => {
    const old = cipher.encrypt("13812341234", at);
    const rotated = new PiiCipher(parseKeyring(`${K2},${K1}`));
    expect(rotated.currentKeyId).toBe("k2");
    expect(rotated.decrypt(old, at)).toBe("13812341234");
    expect(rotated.needsRotation(old)).toBe(true);
    const fresh = rotated.rotate(old, at);
    expect(rotated.keyIdOf(fresh)).toBe("k2");
    expect(rotated.decrypt(fresh, at)).toBe("13812341234");
    // Already under the current key: the same string back, nothing to write.
    expect(rotated.rotate(fresh, at)).toBe(fresh);
    // Once k1 is retired, the old value no longer opens; the rotated one does.
    const retired = new PiiCipher(parseKeyring(K2));
    expect(() => retired.decrypt(old, at)).toThrow(UnknownPiiKeyError);
    expect(retired.decrypt(fresh, at)).toBe("13812341234");
  });
});

describe("pii keyring", () => {
  it("takes kid:base64 entries, the first current, base64url too", () => {
    const url = `k3:${Buffer.alloc(32, 7).toString("base64url")}`;
    const ring = parseKeyring(` ${K2} , ${K1},${url}`);
    expect(ring.current).toBe("k2");
    expect(ring.ids).toEqual(["k2", "k1", "k3"]);
    expect(ring.key("k3")).toEqual(Buffer.alloc(32, 7));
    expect(ring.key("nope")).toBeNull();
  });

  it("refuses malformed keyrings with the reason, never echoing a key", () => {
    const short = `k1:${Buffer.alloc(16).toString("base64")}`;
    const cases: [string, RegExp][] = [
      ["", /empty/],
      ["k1", /<kid>:<base64 key>/],
      [`bad.id:${Buffer.alloc(32).toString("base64")}`, /key id/],
      [short, /16 bytes; AES-256 needs 32/],
      ["k1:not base64!", /not base64/],
      [`${K1},${K1}`, /twice/],
    ];
    for (const [text, reason] of cases) {
      expect(() => parseKeyring(text), text).toThrow(PiiKeyringError);
      expect(() => parseKeyring(text), text).toThrow(reason);
    }
    try {
      parseKeyring(short);
    } catch (err) {
      expect((err as Error).message).not.toContain(short.slice(3));
    }
  });

  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("makes a development keyring file on first use (0600) and reads the same one after", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pii-"));
    dirs.push(dir);
    const file = join(dir, "sub", "pii-keys");
    const first = await loadKeyring({ file });
    expect(first.current).toMatch(/^dev-[0-9a-f]{8}$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const again = await loadKeyring({ file });
    expect(again.current).toBe(first.current);
    expect(again.key(first.current)).toEqual(first.key(first.current));
    // A key added first in the file becomes current; the dev key still decrypts.
    const ct = new PiiCipher(first).encrypt("张三", at);
    await writeFile(file, `${K2}\n${await readFile(file, "utf8")}`);
    const rotated = await loadKeyring({ file });
    expect(rotated.current).toBe("k2");
    expect(new PiiCipher(rotated).decrypt(ct, at)).toBe("张三");
    await expect(loadKeyring({})).rejects.toThrow(PiiKeyringError);
    await expect(loadKeyring({ keys: K1, file })).rejects.toThrow(PiiKeyringError);
  });
});

describe("pii contact", () => {
  const cipher = new PiiCipher(parseKeyring(K1));
  const contact = {
    name: "张三",
    phone: "13812341234",
    address: "云南省昆明市五华区翠湖南路12号3栋502",
    doorNote: "放门口，别按门铃",
  };

  it("encrypts each field bound to the order, in the shape the order actor takes", () => {
    const enc = encryptContact(cipher, "o-1", contact);
    expect(EncryptedContact.safeParse(enc).success).toBe(true);
    const json = JSON.stringify(enc);
    for (const v of Object.values(contact)) expect(json).not.toContain(v);
    expect(decryptContact(cipher, "o-1", enc)).toEqual(contact);
    expect(() => decryptContact(cipher, "o-2", enc)).toThrow(PiiAuthenticationError);
    // Fields cannot be swapped: the phone's ciphertext is not a valid name.
    expect(() => decryptContact(cipher, "o-1", { ...enc, name: enc.phone })).toThrow(
      PiiAuthenticationError,
    );
  });

  it("keeps absent address and note as null", () => {
    const enc = encryptContact(cipher, "o-1", { name: "李四", phone: "15900001111" });
    expect(enc.address).toBeNull();
    expect(enc.doorNote).toBeNull();
    expect(decryptContact(cipher, "o-1", enc)).toEqual({
      name: "李四",
      phone: "15900001111",
      address: null,
      doorNote: null,
    });
  });
});

describe("pii masks", () => {
  it("masks a phone as 138****1234", () => {
    expect(maskPhone("13812341234")).toBe("138****1234");
    expect(maskPhone("12345")).toBe("****");
  });

  it("keeps a name's first character only", () => {
    expect(maskName("张三")).toBe("张*");
    expect(maskName("王小明")).toBe("王**");
    expect(maskName("欧阳娜娜")).toBe("欧***");
    expect(maskName("Alexander Smith")).toBe("A***");
    expect(maskName("张")).toBe("*");
    expect(maskName("😀x")).toBe("😀*");
  });

  it("keeps the city and district of an address, never the street or the door", () => {
    expect(maskAddress("云南省昆明市五华区翠湖南路12号3栋502")).toBe("云南省昆明市****");
    expect(maskAddress("翠湖南路12号")).toBe("翠湖****");
    expect(maskAddress("12号")).toBe("1****");
  });
});
