"""The business calendar in force: the organisation's (settings, with the changes recorded in
Postgres so each applies from its date on) and a KPI's (its own zone, if it names one)."""

from __future__ import annotations

import datetime as dt

from service.config import Settings
from service.db import Connection
from service.kpi.periods import DEFAULT, WEEKDAYS, Calendar, Era, Rules
from service.models.catalog import Kpi
from service.store import calendars as store

#: The organisation's calendar for this process: the settings' rules (use_settings), with the
#: recorded history once `record` has run (the app's start and the `kpi` command).
_organisation: Calendar = DEFAULT


def rules_of(settings: Settings) -> Rules:
    return Rules(
        settings.time_zone, WEEKDAYS.index(settings.week_start), settings.fiscal_year_start_month
    )


def use_settings(settings: Settings) -> None:
    """The settings' calendar for all time, until `record` reads the history."""
    global _organisation  # one calendar per process, as the settings are
    _organisation = Calendar((Era(rules_of(settings)),))


def organisation() -> Calendar:
    return _organisation


def of_kpi(kpi: Kpi) -> Calendar:
    """The calendar a KPI's periods and buckets follow: its own zone (with the organisation's
    first day of the week and fiscal year) for all time, else the organisation's."""
    zone = kpi.time_zone
    return _organisation.with_zone(zone) if zone else _organisation


def changed_since(rules: Rules, on: dt.date | None, now: dt.datetime) -> dt.datetime:
    """The instant a calendar change takes effect: local midnight (in the new zone) of `on`,
    else of the day `now` falls on there."""
    day = on if on is not None else now.astimezone(rules.tz).date()
    return rules.midnight(day)


def history(eras: list[Era], rules: Rules, since: dt.datetime) -> tuple[Calendar, Era | None]:
    """The calendar from the recorded eras with `rules` in force now: the new era to record
    (None when they are the rules in force already, or the default ones with none recorded)."""
    if not eras:
        if rules.is_default:
            return DEFAULT, None
        eras = [Era(Rules(), None)]
    else:
        eras = [Era(Rules(), None), *eras] if eras[0].since is not None else eras
    known = Calendar(tuple(eras))
    if known.current == rules:
        return known, None
    era = Era(rules, since)
    return known.changed(rules, since), era


async def record(con: Connection, settings: Settings, now: dt.datetime) -> Calendar:
    """Records the settings' calendar when it differs from the one in force, from the day
    KPI_CALENDAR_FROM names (else today), and makes the history the process's calendar."""
    global _organisation
    rules = rules_of(settings)
    eras = await store.business_calendar_eras(con)
    cal, new = history(eras, rules, changed_since(rules, settings.calendar_from, now))
    if new is not None:
        await store.record_business_calendar(con, new)
    _organisation = cal
    return cal
