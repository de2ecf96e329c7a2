/** Cold-chain badge for chilled and frozen orders: reading and whether it is in range. */
Component({
  properties: {
    // { state: "in_range" | "excursion" | "waiting", label, verdict } or null
    badge: { type: Object, value: null },
  },
});
