"""Read side of coverage: figures for any region on any date, from the counters or the history.

One module per topic; each imports only those above it here:

- source: where the figures of a date come from (`figure_source`: the counters today, the
  workers' state periods before), `check_as_of`
- regions: a region of any level by code, within the caller's scope
- targets: a region's target, its own or its nearest ancestor's
- rows: a region's figures, the rows of a level, filtered and sorted, rank among them
- detail: one region with breakdowns, rank, change and premium estimate
- trend: a region's stored snapshots over time
- unprotected: villages with unprotected workers
- snapshots: every region's figures on a date, as snapshots store them
- workforce: UC Jamsostek workforce figures with coverage, targets and rank
"""
