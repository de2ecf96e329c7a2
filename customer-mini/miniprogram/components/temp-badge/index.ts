/**
 * Cold-chain badge for chilled and frozen orders: the reading, and what the van says of it (in
 * range, out of range, an excursion, a silent sensor).
 */
Component({
  properties: {
    // shared/view.ts TemperatureBadge ({ state, label, verdict, mark, note }) or null
    badge: { type: Object, value: null },
  },
});
