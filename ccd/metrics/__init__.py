"""Supervisor metrics computed from the persisted journal and CDRs — pure logic, no I/O below `reports`.

* `definitions`: what each figure means (formula text, config keys) and the thresholds T, S;
* `journal`: counting queue_log rows into base measures (queues) and time per state (agents);
* `formulas`: SL, abandon rate, ASA, AHT, occupancy from those measures;
* `period`: report periods and interval buckets in the office's time zone;
* `alerts`: the wallboard's alert rules;
* `reports`, `live`: the reports and today's wallboard figures, read through the store.

See docs/metrics.md for every definition.
"""
