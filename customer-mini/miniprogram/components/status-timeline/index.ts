/** The order's milestones (from shared/view.ts `timelineSteps`), oldest first. */
Component({
  properties: {
    steps: { type: Array, value: [] },
  },
});
