import { describe, expect, it } from "vitest";
import { Glide, glideDuration, metresBetween } from "./motion.ts";

describe("Glide", () => {
  it("moves linearly from the drawn point to the new target", () => {
    const glide = new Glide({ lat: 25, lng: 102 });
    glide.retarget({ lat: 25.01, lng: 102.02 }, 1000, 1000);
    expect(glide.at(1000)).toEqual({ lat: 25, lng: 102 });
    const half = glide.at(1500);
    expect(half.lat).toBeCloseTo(25.005, 9);
    expect(half.lng).toBeCloseTo(102.01, 9);
    expect(glide.at(2500)).toEqual({ lat: 25.01, lng: 102.02 });
    expect(glide.moving(1500)).toBe(true);
    expect(glide.moving(2000)).toBe(false);
  });

  it("turns toward a new target from wherever it has got to", () => {
    const glide = new Glide({ lat: 0, lng: 0 });
    glide.retarget({ lat: 1, lng: 0 }, 0, 1000);
    glide.retarget({ lat: 1, lng: 1 }, 500, 1000);
    expect(glide.at(500)).toEqual({ lat: 0.5, lng: 0 });
    expect(glide.at(1500)).toEqual({ lat: 1, lng: 1 });
  });
});

describe("glideDuration", () => {
  it("follows the reporting interval within bounds and does not animate long jumps", () => {
    expect(glideDuration(1000, 20)).toBe(1000);
    expect(glideDuration(50, 20)).toBe(300);
    expect(glideDuration(30_000, 20)).toBe(2000);
    expect(glideDuration(1000, 5_000)).toBe(0);
  });

  it("measures metres on the ground", () => {
    // One thousandth of a degree of latitude is about 111 m.
    expect(metresBetween({ lat: 25, lng: 102.7 }, { lat: 25.001, lng: 102.7 })).toBeCloseTo(111, 0);
  });
});
