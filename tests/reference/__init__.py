"""A plain-Python reference of the KPI figures, written from the metric definitions alone.

It imports nothing from the service (test_reference_independence.py checks that), so a bug in
the service's timelines, links or SQL cannot hide in it: `history` holds what the tools state,
`timeline` folds it into incident and change records, `links` ties incidents to the changes
that caused them, and `figures` computes the service report from all of it.
"""
