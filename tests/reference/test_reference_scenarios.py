"""The reference itself, checked on small scenarios worked by hand (the arithmetic is in the
comments): timelines, outage intervals, availability and error budget, incident response,
recurrence, links and every DORA key with its band. Pure: no database, no service code."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from tests.reference import figures
from tests.reference.figures import Window, measured_window, percentile_cont, service_report
from tests.reference.history import Change, ChangeReport, Commit, Incident, Service, Step
from tests.reference.links import Ambiguous, Link, links
from tests.reference.timeline import fold_change, fold_incident


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def steps(*pairs: tuple[str, str]) -> tuple[Step, ...]:
    return tuple(Step(kind, at(when)) for kind, when in pairs)


def approx(value: float) -> object:
    return pytest.approx(value, rel=1e-12, abs=1e-9)


# Timelines ------------------------------------------------------------------------------------

REOPENED = Incident(
    external_id="INC-1", service="checkout", severity="sev2",
    steps=steps(("triggered", "2026-10-01 10:00"), ("acknowledged", "2026-10-01 10:05"),
                ("resolved", "2026-10-01 10:30"), ("reopened", "2026-10-01 11:00"),
                ("resolved", "2026-10-01 12:00")),
)  # fmt: skip


def test_a_reopened_incident_is_down_twice_and_resolved_at_its_final_resolution() -> None:
    rec = fold_incident(REOPENED)
    assert rec.status == "resolved"
    assert rec.detected_at == rec.started_at == at("2026-10-01 10:00")
    assert rec.acknowledged_at == at("2026-10-01 10:05")
    assert rec.resolved_at == at("2026-10-01 12:00")
    # Up from 10:30 to 11:00: two intervals, 30 + 60 = 90 minutes.
    assert rec.outages == (
        (at("2026-10-01 10:00"), at("2026-10-01 10:30")),
        (at("2026-10-01 11:00"), at("2026-10-01 12:00")),
    )


def test_steps_in_any_order_and_sent_twice_give_the_same_record() -> None:
    once = fold_incident(REOPENED)
    for order in itertools.permutations(REOPENED.steps):
        doubled = (*order, order[0], order[-1])
        again = Incident(REOPENED.external_id, "checkout", "sev2", steps=doubled)
        assert fold_incident(again) == once


def test_unacknowledge_reopens_but_keeps_the_first_acknowledgement() -> None:
    reassigned = Incident(
        "PD-1", "checkout", "sev1",
        steps=steps(("triggered", "2026-10-01 09:00"), ("acknowledged", "2026-10-01 09:10"),
                    ("unacknowledged", "2026-10-01 09:20")),
    )  # fmt: skip
    rec = fold_incident(reassigned)
    assert rec.status == "open"
    assert rec.acknowledged_at == at("2026-10-01 09:10")  # MTTA 10 min stays
    again = (*reassigned.steps, Step("acknowledged", at("2026-10-01 09:40")))
    acked_again = Incident("PD-1", "checkout", "sev1", steps=again)
    rec = fold_incident(acked_again)
    assert (rec.status, rec.acknowledged_at) == ("acknowledged", at("2026-10-01 09:10"))


def test_an_acknowledgement_after_the_resolution_changes_no_status() -> None:
    late = Incident(
        "PD-2", "checkout", "sev3",
        steps=steps(("triggered", "2026-10-01 09:00"), ("resolved", "2026-10-01 09:30"),
                    ("acknowledged", "2026-10-01 09:45"), ("updated", "2026-10-01 10:00")),
    )  # fmt: skip
    rec = fold_incident(late)
    assert (rec.status, rec.resolved_at) == ("resolved", at("2026-10-01 09:30"))
    assert rec.acknowledged_at == at("2026-10-01 09:45")
    assert rec.outages == ((at("2026-10-01 09:00"), at("2026-10-01 09:30")),)


def test_detection_is_the_earliest_stated_and_impact_start_defaults_to_it() -> None:
    stated = Incident(
        "I-3", "checkout", "sev2", detected_at=at("2026-10-01 08:50"),
        steps=steps(("triggered", "2026-10-01 09:00")),
    )  # fmt: skip
    rec = fold_incident(stated)
    assert rec.detected_at == rec.started_at == at("2026-10-01 08:50")
    assert rec.outages == ((at("2026-10-01 08:50"), None),)  # open: down until now
    impact = Incident(
        "I-4", "checkout", "sev2", started_at=at("2026-10-01 08:30"),
        steps=steps(("triggered", "2026-10-01 09:00")),
    )  # fmt: skip
    assert fold_incident(impact).started_at == at("2026-10-01 08:30")


def test_a_change_is_its_latest_report_whatever_the_arrival() -> None:
    reports = (ChangeReport("success", at("2026-10-01 10:20")),
               ChangeReport("in_progress", at("2026-10-01 10:00")))  # fmt: skip
    change = Change("D-1", "checkout", "prod", "deploy", reports=reports)
    rec = fold_change(change)
    assert (rec.status, rec.started_at, rec.finished_at) == (
        "success", at("2026-10-01 10:00"), at("2026-10-01 10:20"))  # fmt: skip
    assert rec.is_production  # "prod" counts as production, as "production" does
    running = Change("D-2", "checkout", "staging", "deploy", reports=reports[1:])
    rec = fold_change(running)
    assert (rec.status, rec.finished_at, rec.is_production) == ("in_progress", None, False)


# Availability, error budget, incident response -----------------------------------------------

CHECKOUT = Service("checkout", tier=1, outage_threshold="sev2", revenue_per_hour=1200)
DAY_WINDOW = (at("2026-10-01 00:00"), at("2026-10-02 00:00"))


def test_availability_counts_the_reopened_incident_s_actual_outage() -> None:
    report = service_report(CHECKOUT, [REOPENED], [], *DAY_WINDOW, now=at("2026-10-03 00:00"))
    a = report.availability
    # 90 min down = 5,400 s of 86,400 s: 1 - 5400/86400 = 0.9375.
    assert a.availability == approx(93.75)
    assert (a.outage_minutes, a.outage_incidents) == (approx(90), 1)
    # Tier 1 default target 99.95 %: budget 0.0005 x 86,400 = 43.2 s; burn 5400 / 43.2 = 125;
    # remaining 1 - 125 = -124 = -12,400 %.
    assert a.target == approx(99.95)
    assert a.burn_rate == approx(125)
    assert a.error_budget_remaining == approx(-12_400)
    i = report.incidents
    # MTTR to the final resolution: 12:00 - 10:00 = 120 min; MTTA 10:05 - 10:00 = 5 min.
    assert i.overall.mttr == figures.Durations(1, approx(120), approx(120), approx(120))
    assert i.overall.time_to_restore.mean == approx(120)
    assert i.overall.mtta.mean == approx(5)
    assert i.overall.mttd.mean == approx(0)
    # Downtime cost: 1.5 h x 1,200 per hour = 1,800.
    assert i.downtime_cost == approx(1800)


def test_overlapping_and_edge_crossing_outages_are_merged_and_clipped() -> None:
    payments = Service("payments", tier=2, outage_threshold="sev2")
    incidents = [
        # A crosses the window's start: counts from 00:00 to 01:00 (60 min).
        Incident("A", "payments", "sev1", started_at=at("2026-09-30 22:00"),
                 steps=steps(("triggered", "2026-09-30 22:30"), ("resolved", "2026-10-01 01:00"))),
        # B overlaps A: the union runs 00:00-02:00, so B adds 60 min more.
        Incident("B", "payments", "sev2",
                 steps=steps(("triggered", "2026-10-01 00:30"), ("resolved", "2026-10-01 02:00"))),
        # C is below the threshold (sev3 > sev2): no outage, but an incident all the same.
        Incident("C", "payments", "sev3",
                 steps=steps(("triggered", "2026-10-01 05:00"), ("resolved", "2026-10-01 09:00"))),
        # D is still open at now (10-02 03:00): down from 23:00, clipped at 24:00 (60 min).
        Incident("D", "payments", "sev2", steps=steps(("triggered", "2026-10-01 23:00"))),
        # Another service's outage counts for that service only.
        Incident("E", "checkout", "sev1", steps=steps(("triggered", "2026-10-01 03:00"))),
    ]  # fmt: skip
    report = service_report(payments, incidents, [], *DAY_WINDOW, now=at("2026-10-02 03:00"))
    a = report.availability
    # 120 + 60 = 180 min = 10,800 s: 1 - 10800/86400 = 0.875.
    assert (a.availability, a.outage_minutes, a.outage_incidents) == (approx(87.5), approx(180), 3)
    # Tier 2: 99.9 %, budget 0.001 x 86,400 = 86.4 s, burn 10800 / 86.4 = 125.
    assert (a.target, a.burn_rate) == (approx(99.9), approx(125))
    i = report.incidents
    # Started in the window: B, C, D (A started the day before). Resolved: B 90 min, C 240 min.
    assert i.overall.incidents == 3
    # mean (90 + 240) / 2 = 165; median 165; p90 = 90 + 0.9 x (240 - 90) = 225.
    assert i.overall.mttr == figures.Durations(2, approx(165), approx(165), approx(225))
    assert i.overall.mtta == figures.Durations(0, None, None, None)
    assert sorted(i.by_severity) == ["sev2", "sev3"]
    assert i.by_severity["sev2"].incidents == 2 and i.by_severity["sev2"].mttr.n == 1
    assert i.recurrence_rate == approx(0)


def test_percentile_cont_interpolates_between_ranks() -> None:
    # [10, 20, 30, 40]: the median sits halfway between 20 and 30; p90 at rank 0.9 x 3 = 2.7,
    # 30 + 0.7 x (40 - 30) = 37.
    assert percentile_cont([40, 10, 30, 20], 0.5) == approx(25)
    assert percentile_cont([40, 10, 30, 20], 0.9) == approx(37)
    assert percentile_cont([7], 0.9) == 7
    assert percentile_cont([], 0.5) is None


def test_recurrence_looks_30_days_back_inclusive_and_needs_an_earlier_start() -> None:
    svc = Service("erp", tier=3)

    def disk(name: str, when: str, key: str | None = "disk") -> Incident:
        return Incident(name, "erp", "sev3", problem_key=key, steps=steps(("triggered", when)))

    incidents = [
        disk("R1", "2026-10-01 00:00"),
        disk("R2", "2026-10-31 00:00"),  # R1 started exactly 30 days before: recurs
        disk("R3", "2026-10-31 00:00", key=None),  # no problem key: never recurs
        disk("R4", "2026-12-01 00:00"),  # R2 started 31 days before: does not recur
    ]
    report = service_report(svc, incidents, [], at("2026-10-15 00:00"), at("2026-12-15 00:00"),
                            now=at("2026-12-20 00:00"))  # fmt: skip
    # In the window: R2, R3, R4; one of three recurs: 33.3 %.
    assert report.incidents.recurrence_rate == approx(100 / 3)
    # Two incidents starting at the same instant: neither is earlier than the other.
    twins = [disk("T1", "2026-11-02 00:00"), disk("T2", "2026-11-02 00:00")]
    report = service_report(svc, twins, [], at("2026-10-15 00:00"), at("2026-12-15 00:00"),
                            now=at("2026-12-20 00:00"))  # fmt: skip
    assert report.incidents.recurrence_rate == approx(0)


def test_the_window_is_measured_up_to_now() -> None:
    assert measured_window(at("2026-10-01 00:00"), at("2026-10-08 00:00"),
                           at("2026-10-02 06:00")) == Window(at("2026-10-01 00:00"),
                                                             at("2026-10-02 06:00"))  # fmt: skip
    with pytest.raises(ValueError):
        measured_window(at("2026-10-03 00:00"), at("2026-10-08 00:00"), at("2026-10-02 06:00"))


# Links ----------------------------------------------------------------------------------------


def deploy(name: str, finished: str, status: str = "success", env: str = "production",
           service: str = "api", kind: str = "deploy", sha: str | None = None,
           commits: tuple[Commit, ...] = ()) -> Change:  # fmt: skip
    return Change(name, service, env, kind, reports=(ChangeReport(status, at(finished)),),
                  commit_sha=sha, commits=commits)  # fmt: skip


def test_links_are_explicit_first_else_the_last_good_production_change_in_240_minutes() -> None:
    changes = [
        deploy("C1", "2026-10-01 08:00"),
        deploy("C2", "2026-10-01 09:00"),
        deploy("C3", "2026-10-01 09:30", status="failed", sha="c3c3c3c3c3"),
        deploy("C4", "2026-10-01 09:45", env="staging"),
        deploy("C5", "2026-10-01 13:00"),
    ]

    def started(name: str, when: str, cause: str | None = None, service: str = "api") -> Incident:
        return Incident(name, service, "sev2", caused_by=cause, steps=steps(("triggered", when)))

    incidents = [
        started("I1", "2026-10-01 10:00"),  # C3 failed, C4 is staging: C2 (09:00) is the last
        started("I2", "2026-10-01 13:00"),  # C5 finished at the very start: inclusive
        started("I3", "2026-10-01 16:59"),  # C5 finished 239 min before: inside
        started("I4", "2026-10-01 17:00"),  # C5 finished 240 min before: outside
        started("I5", "2026-10-01 10:00", cause="C1"),  # explicit wins over the later C2
        started("I6", "2026-10-01 10:00", cause="C3C3C3C3C3"),  # by commit, any status
        started("I7", "2026-10-01 10:00", service="web"),  # no change of its own service
    ]
    assert links(incidents, changes) == {
        "I1": Link("C2", "inferred"),
        "I2": Link("C5", "inferred"),
        "I3": Link("C5", "inferred"),
        "I5": Link("C1", "explicit"),
        "I6": Link("C3", "explicit"),
    }
    # The same facts stated in another order link the same way.
    assert links(incidents[::-1], changes[::-1]) == links(incidents, changes)
    with pytest.raises(Ambiguous):
        links([started("I8", "2026-10-01 10:00", cause="nothing-by-this-name")], changes)


# DORA -----------------------------------------------------------------------------------------


def test_every_dora_key_with_its_band() -> None:
    api = Service("api", tier=2)

    def c(sha: str, when: str) -> Commit:
        return Commit(sha, at(when))

    changes = [
        # D1: two commits shipped, 12 h and 24 h before its finish (Oct 2 12:00).
        deploy("D1", "2026-10-02 12:00", sha="aaaa0001",
               commits=(c("aaaa0001", "2026-10-02 00:00"), c("bbbb0001", "2026-10-01 12:00"))),
        # D2 failed; its head commit's time is nowhere: no lead time from it.
        deploy("D2", "2026-10-03 12:00", status="failed", sha="aaaa0002"),
        # D3, a hotfix sent with commits[] only: 6 h.
        deploy("D3", "2026-10-04 00:00", kind="hotfix",
               commits=(c("aaaa0003", "2026-10-03 18:00"),)),
        # D4 names only its head commit, whose time D1 stated (Oct 1 12:00): 3.5 days = 84 h.
        deploy("D4", "2026-10-05 00:00", sha="bbbb0001"),
        # D5, a rollback that rolled back.
        deploy("D5", "2026-10-06 00:00", status="rolled_back", kind="rollback"),
        # Not counted: staging, canceled, finished at the window's end (exclusive).
        deploy("D6", "2026-10-06 12:00", env="staging"),
        deploy("D7", "2026-10-06 13:00", status="canceled"),
        deploy("D8", "2026-10-08 00:00"),
    ]  # fmt: skip
    incidents = [
        # Inferred on D4 (finished 1 h before), resolved 3 h after D4's finish.
        Incident("X1", "api", "sev2",
                 steps=steps(("triggered", "2026-10-05 01:00"), ("resolved", "2026-10-05 03:00"))),
        # Named on D2 and still open: D2 fails, but has no recovery time yet.
        Incident("X2", "api", "sev2", caused_by="D2",
                 steps=steps(("triggered", "2026-10-03 13:00"))),
    ]  # fmt: skip
    d = service_report(api, incidents, changes, at("2026-10-01 00:00"), at("2026-10-08 00:00"),
                       now=at("2026-10-10 00:00")).dora  # fmt: skip
    # D1-D5: 5 deployments in one week: 5 per week, 5/7 a day: weekly or better = high.
    assert d.deployments == 5
    assert d.deployments_per_week == figures.Banded(approx(5), "high")
    # Failed: D2 (failed), D4 (caused X1), D5 (rolled back): 3/5 = 60 % -> low.
    assert d.change_failure_rate == figures.Banded(approx(60), "low")
    # Rework: D3 hotfix, D5 rollback: 2/5 = 40 %.
    assert d.rework_rate == approx(40)
    # Lead pairs 6, 12, 24, 84 h: median (12 + 24) / 2 = 18 h, under a day -> elite.
    assert d.lead_time == figures.Banded(approx(18), "elite")
    # Recovery: D4 only (X2 is open): 03:00 - 00:00 = 3 h, under a day -> high.
    assert d.recovery_time == figures.Banded(approx(3), "high")


def test_bands_on_their_thresholds() -> None:
    # Rates on a threshold are in the better band; durations on one in the worse band.
    assert [figures.rate_band(s) for s in (0.05, 0.050001, 0.10, 0.15, 0.150001)] == [
        "elite", "high", "high", "medium", "low"]  # fmt: skip
    day, hour = figures.DAY, figures.HOUR
    lead = [figures.duration_band(s, day, figures.WEEK, figures.MONTH)
            for s in (day - 1, day, 7 * day, 30 * day)]  # fmt: skip
    assert lead == ["elite", "high", "medium", "low"]
    assert figures.duration_band(hour, hour, day, figures.WEEK) == "high"
    # 7 deploys in 7 days: daily -> elite; 1 in 7 days: weekly -> high; 1 in 30 days: monthly
    # -> medium; 1 in 31 days: low.
    week = figures.WEEK
    assert figures.frequency_band(7, week) == "elite"
    assert figures.frequency_band(1, week) == "high"
    assert figures.frequency_band(1, 30 * day) == "medium"
    assert figures.frequency_band(1, 31 * day) == "low"
