/**
 * A schematic of the city drawn when no tile server is configured, so a dispatcher still sees
 * where things are: the main urban area, the lake, district names. Hand-traced and coarse
 * (a few hundred metres), WGS-84; it is orientation, not a basemap.
 */
export interface CityOutline {
  center: [number, number];
  zoom: number;
  urban: Array<[number, number]>;
  water: Array<{ name: { zh: string; en: string }; ring: Array<[number, number]> }>;
  places: Array<{ name: { zh: string; en: string }; at: [number, number] }>;
}

const KUNMING: CityOutline = {
  center: [25.04, 102.71],
  zoom: 13,
  urban: [
    [25.105, 102.69],
    [25.1, 102.74],
    [25.08, 102.79],
    [25.04, 102.805],
    [24.99, 102.79],
    [24.965, 102.745],
    [24.975, 102.705],
    [25.0, 102.665],
    [25.04, 102.645],
    [25.08, 102.655],
  ],
  water: [
    {
      name: { zh: "滇池", en: "Dian Lake" },
      ring: [
        [25.03, 102.655],
        [25.015, 102.675],
        [24.985, 102.69],
        [24.975, 102.715],
        [24.95, 102.735],
        [24.91, 102.75],
        [24.87, 102.76],
        [24.82, 102.745],
        [24.77, 102.72],
        [24.72, 102.69],
        [24.69, 102.655],
        [24.7, 102.615],
        [24.76, 102.6],
        [24.81, 102.595],
        [24.87, 102.615],
        [24.92, 102.63],
        [24.96, 102.645],
        [24.99, 102.65],
        [25.01, 102.64],
      ],
    },
  ],
  places: [
    { name: { zh: "五华区", en: "Wuhua" }, at: [25.06, 102.69] },
    { name: { zh: "盘龙区", en: "Panlong" }, at: [25.08, 102.735] },
    { name: { zh: "官渡区", en: "Guandu" }, at: [25.015, 102.76] },
    { name: { zh: "西山区", en: "Xishan" }, at: [25.03, 102.665] },
    { name: { zh: "呈贡区", en: "Chenggong" }, at: [24.885, 102.815] },
    { name: { zh: "东风广场", en: "Dongfeng Sq." }, at: [25.0406, 102.7123] },
  ],
};

const OUTLINES: Record<string, CityOutline> = { km: KUNMING, kunming: KUNMING };

/** The outline of a market's city; Kunming for markets the console does not know yet. */
export function outlineFor(marketId: string): CityOutline {
  return OUTLINES[marketId] ?? KUNMING;
}

export const MARKET_NAMES: Record<string, { zh: string; en: string }> = {
  km: { zh: "昆明", en: "Kunming" },
  kunming: { zh: "昆明", en: "Kunming" },
};
