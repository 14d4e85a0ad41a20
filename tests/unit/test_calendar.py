"""Working days, holidays, filing cut-off and deadlines of the office calendar."""
from datetime import date, datetime, time, timedelta, timezone

import pytest

from engine.timekeeping.calendar import (
    LAIP_ANSWER_WORKING_DAYS,
    SCRIPT_MAX_DAYS,
    CalendarSettings,
    WorkingCalendar,
    script_helpers,
)

GT = timezone(timedelta(hours=-6))


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# -- holidays ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("day", [date(2026, 4, 2), date(2026, 4, 3), date(2026, 4, 4)])
def test_holy_week_2026_thursday_to_saturday_are_closed(cal, day):
    assert not cal.is_working_day(day)
    assert cal.holiday_name(day) is not None


@pytest.mark.parametrize("day", [date(2027, 3, 25), date(2027, 3, 26), date(2027, 3, 27)])
def test_holy_week_2027_thursday_to_saturday_are_closed(cal, day):
    assert not cal.is_working_day(day)


def test_holy_wednesday_and_easter_monday_are_working_days(cal):
    assert cal.is_working_day(date(2026, 4, 1))
    assert cal.is_working_day(date(2026, 4, 6))
    assert cal.holiday_name(date(2026, 4, 3)) == "Viernes Santo"


def test_army_day_2026_is_moved_back_to_monday_29_june(cal):
    # 30 June 2026 is a Tuesday; Decreto 19-2018 moves it to the Monday of that week.
    assert not cal.is_working_day(date(2026, 6, 29))
    assert cal.holiday_name(date(2026, 6, 29)) == "Día del Ejército"
    assert cal.is_working_day(date(2026, 6, 30))


def test_army_day_2027_is_moved_back_to_monday_28_june(cal):
    # 30 June 2027 is a Wednesday.
    assert not cal.is_working_day(date(2027, 6, 28))
    assert cal.is_working_day(date(2027, 6, 30))


def test_army_day_on_a_friday_moves_forward_to_monday(cal):
    # 30 June 2028 is a Friday: the holiday is Monday 3 July.
    assert cal.is_working_day(date(2028, 6, 30))
    assert not cal.is_working_day(date(2028, 7, 3))


def test_santa_ana_fair_26_july_is_a_holiday_in_chimaltenango(cal):
    assert date(2027, 7, 26).weekday() == 0
    assert not cal.is_working_day(date(2027, 7, 26))
    assert "Santa Ana" in cal.holiday_name(date(2027, 7, 26))


def test_santa_ana_on_a_sunday_is_not_moved(cal):
    # 26 July 2026 is a Sunday; local fair days are not moved, so Monday 27 is worked.
    assert date(2026, 7, 26).weekday() == 6
    assert cal.is_working_day(date(2026, 7, 27))


@pytest.mark.parametrize("day", [date(2025, 8, 15), date(2029, 8, 15)])
def test_15_august_is_a_working_day_outside_guatemala_department(cal, day):
    assert day.weekday() < 5
    assert cal.is_working_day(day)
    assert cal.holiday_name(day) is None


def test_national_holidays_of_2026_after_corrections(cal):
    assert sorted(cal.holidays_for_year(2026)) == [
        date(2026, 1, 1), date(2026, 4, 2), date(2026, 4, 3), date(2026, 4, 4), date(2026, 5, 1),
        date(2026, 6, 29), date(2026, 7, 26), date(2026, 9, 15), date(2026, 10, 20), date(2026, 11, 1),
        date(2026, 12, 25),
    ]


def test_weekends_are_never_working_days(cal):
    assert not cal.is_working_day(date(2026, 3, 7))
    assert not cal.is_working_day(date(2026, 3, 8))
    assert cal.holiday_name(date(2026, 3, 7)) is None


# -- year end ----------------------------------------------------------------------------------------
def test_24_and_31_december_are_working_mornings_closing_at_noon(cal):
    for day in (date(2026, 12, 24), date(2026, 12, 31)):
        assert cal.is_working_day(day)
        assert cal.is_half_day(day)
        assert cal.closing_time(day) == time(12, 0)
    assert cal.closing_time(date(2026, 12, 23)) == time(16, 30)


def test_christmas_and_new_year_are_closed(cal):
    assert not cal.is_working_day(date(2026, 12, 25))
    assert not cal.is_working_day(date(2027, 1, 1))


def test_deadline_ending_on_31_december_is_at_noon(cal):
    # From Tue 22 Dec 2026: 23, 24, (25 holiday, weekend), 28, 29, 30, 31.
    assert cal.deadline(date(2026, 12, 22), 6) == datetime(2026, 12, 31, 12, 0, tzinfo=GT)


def test_deadline_crossing_new_year_skips_1_january_and_the_weekend(cal):
    assert cal.deadline(date(2026, 12, 22), 7) == datetime(2027, 1, 4, 16, 30, tzinfo=GT)


def test_filing_on_24_december_afternoon_counts_after_christmas(cal):
    assert cal.effective_filing_date(datetime(2026, 12, 24, 11, 59)) == date(2026, 12, 24)
    assert cal.effective_filing_date(datetime(2026, 12, 24, 12, 30)) == date(2026, 12, 28)


# -- closure days ------------------------------------------------------------------------------------
def test_closure_day_passed_in_shifts_a_deadline():
    start = datetime(2026, 3, 2, 9, 0)
    assert WorkingCalendar().deadline(start, 5).date() == date(2026, 3, 9)
    closed = WorkingCalendar(closure_days=[(date(2026, 3, 4), "Emergencia por erupción")])
    assert closed.deadline(start, 5).date() == date(2026, 3, 10)
    assert closed.holiday_name(date(2026, 3, 4)) == "Emergencia por erupción"


def test_closure_days_accept_plain_dates_and_can_be_added_later(cal):
    assert WorkingCalendar(closure_days=[date(2026, 3, 4)]).holiday_name(date(2026, 3, 4)) == "Cierre de oficina"
    extended = cal.with_closures({date(2026, 3, 5): "Duelo nacional"})
    assert not extended.is_working_day(date(2026, 3, 5))
    assert cal.is_working_day(date(2026, 3, 5))


def test_closure_days_reject_datetimes():
    with pytest.raises(TypeError):
        WorkingCalendar(closure_days=[datetime(2026, 3, 4, 8, 0)])


# -- filing cut-off ----------------------------------------------------------------------------------
def test_filing_at_1629_counts_today(cal):
    assert cal.effective_filing_date(datetime(2026, 3, 4, 16, 29)) == date(2026, 3, 4)


def test_filing_at_exactly_1630_still_counts_today(cal):
    assert cal.effective_filing_date(datetime(2026, 3, 4, 16, 30)) == date(2026, 3, 4)


def test_filing_at_1631_counts_next_working_day(cal):
    assert cal.effective_filing_date(datetime(2026, 3, 4, 16, 31)) == date(2026, 3, 5)


def test_filing_friday_1700_counts_monday(cal):
    assert cal.effective_filing_date(datetime(2026, 3, 6, 17, 0)) == date(2026, 3, 9)


def test_filing_on_a_saturday_counts_monday(cal):
    assert cal.effective_filing_date(datetime(2026, 3, 7, 10, 0)) == date(2026, 3, 9)


def test_aware_utc_filing_is_converted_to_guatemala_time(cal):
    # 22:31 UTC is 16:31 in Guatemala (UTC-6).
    assert cal.effective_filing_date(datetime(2026, 3, 4, 22, 31, tzinfo=timezone.utc)) == date(2026, 3, 5)
    # 03:00 UTC on the 5th is still the evening of the 4th in Guatemala.
    assert cal.effective_filing_date(datetime(2026, 3, 5, 3, 0, tzinfo=timezone.utc)) == date(2026, 3, 5)


def test_cutoff_is_a_setting():
    early = WorkingCalendar(CalendarSettings(filing_cutoff_time=time(15, 0)))
    assert early.effective_filing_date(datetime(2026, 3, 4, 15, 30)) == date(2026, 3, 5)


# -- counting ----------------------------------------------------------------------------------------
def test_counting_starts_the_day_after_notification(cal):
    assert cal.add_working_days(date(2026, 3, 2), 1) == date(2026, 3, 3)
    assert cal.add_working_days(datetime(2026, 3, 6, 9, 0), 1) == date(2026, 3, 9)
    assert cal.add_working_days(date(2026, 3, 2), 0) == date(2026, 3, 2)


def test_appeal_of_5_working_days_from_a_monday_notification_ends_next_monday(cal):
    assert cal.add_working_days(date(2026, 3, 2), 5) == date(2026, 3, 9)


def test_laip_10_working_days_skip_holy_week(cal):
    # Filed Mon 23 Mar 2026 10:00: 24-27, 30, 31, 1 Apr (7), Holy Week, 6, 7, 8 Apr (10).
    due = cal.deadline(datetime(2026, 3, 23, 10, 0), LAIP_ANSWER_WORKING_DAYS, apply_cutoff=True)
    assert due == datetime(2026, 4, 8, 16, 30, tzinfo=GT)
    assert due.utcoffset() == timedelta(hours=-6)


def test_laip_request_filed_friday_evening_counts_from_monday(cal):
    due = cal.deadline(datetime(2026, 3, 20, 17, 0), LAIP_ANSWER_WORKING_DAYS, apply_cutoff=True)
    assert due == datetime(2026, 4, 8, 16, 30, tzinfo=GT)
    # Without the cut-off rule the Friday itself is the start: one working day earlier.
    assert cal.deadline(datetime(2026, 3, 20, 17, 0), LAIP_ANSWER_WORKING_DAYS).date() == date(2026, 4, 7)


def test_30_calendar_days_versus_30_working_days(cal):
    start = date(2026, 3, 2)
    assert cal.add_days(start, 30, working=False) == date(2026, 4, 1)
    assert cal.add_days(start, 30) == date(2026, 4, 15)
    assert cal.add_days(start, 30, working=True) == cal.add_working_days(start, 30)


def test_calendar_days_ending_on_a_closed_day_roll_to_next_working_day(cal):
    # 5 Mar + 30 = Sat 4 Apr 2026 (Holy Saturday).
    assert cal.add_days(date(2026, 3, 5), 30, working=False) == date(2026, 4, 6)
    assert cal.add_days(date(2026, 3, 5), 30, working=False, roll_forward=False) == date(2026, 4, 4)


def test_negative_working_days_count_backwards(cal):
    assert cal.add_working_days(date(2026, 4, 6), -1) == date(2026, 4, 1)


def test_next_and_previous_working_day(cal):
    assert cal.next_working_day(date(2026, 4, 1)) == date(2026, 4, 6)
    assert cal.previous_working_day(date(2026, 4, 6)) == date(2026, 4, 1)


def test_working_days_between_inverts_add_working_days(cal):
    start = date(2025, 12, 15)
    for n in range(0, 400, 7):
        assert cal.working_days_between(start, cal.add_working_days(start, n)) == n
    assert cal.working_days_between(date(2026, 4, 8), date(2026, 3, 23)) == -10


def test_working_days_between_counts_closures_once_and_ignores_weekend_closures():
    closed = WorkingCalendar(closure_days=[date(2026, 3, 4), date(2026, 3, 7), date(2026, 4, 3)])
    assert closed.working_days_between(date(2026, 3, 2), date(2026, 3, 9)) == 4


def test_deadline_is_aware_in_office_time_for_naive_and_aware_starts(cal):
    naive = cal.deadline(datetime(2026, 3, 2, 9, 0), 1)
    aware = cal.deadline(datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc), 1)
    assert naive == aware == datetime(2026, 3, 3, 16, 30, tzinfo=GT)
    assert str(naive.tzinfo) == "America/Guatemala"


# -- script helpers ----------------------------------------------------------------------------------
def test_script_helper_add_working_days_returns_iso_utc_accepted_by_spiff_timers(cal):
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

    helpers = script_helpers(cal)
    value = helpers["add_working_days"]("2026-03-23", 10)
    assert value == "2026-04-08T22:30:00+00:00"
    assert TimerEventDefinition.get_datetime(value) == datetime(2026, 4, 8, 22, 30, tzinfo=timezone.utc)


def test_script_helpers_take_and_return_plain_values(cal):
    helpers = script_helpers(cal)
    assert helpers["working_deadline"]("2026-03-20T17:00:00", 10, True) == "2026-04-08T16:30:00-06:00"
    assert helpers["add_calendar_days"]("2026-03-02", 30) == "2026-04-01T22:30:00+00:00"
    assert helpers["is_working_day"]("2026-04-03") is False
    assert helpers["is_working_day"](date(2026, 4, 6)) is True
    assert helpers["next_working_day"]("2026-04-01") == "2026-04-06"
    assert helpers["effective_filing_date"]("2026-03-04T22:31:00Z") == "2026-03-05"
    assert helpers["working_days_between"]("2026-03-23", "2026-04-08") == 10
    assert all(f.__doc__ for f in helpers.values())


@pytest.mark.parametrize("name, args", [
    ("add_working_days", ("2026-03-02", SCRIPT_MAX_DAYS + 1)),
    ("add_working_days", ("2026-03-02", -10**9)),
    ("add_calendar_days", ("2026-03-02", 10**7)),
    ("working_deadline", ("2026-03-02", 10**7)),
    ("working_days_between", ("0001-01-01", "9999-12-31")),
])
def test_script_helpers_refuse_spans_beyond_a_century(cal, name, args):
    # Helpers run with the script time limit's tracer off: one call must stay short whatever it is asked.
    with pytest.raises(ValueError, match="a script may count"):
        script_helpers(cal)[name](*args)


def test_script_helpers_count_up_to_a_century(cal):
    helpers = script_helpers(cal)
    assert helpers["add_working_days"]("2026-03-02", SCRIPT_MAX_DAYS).startswith("21")
    assert helpers["working_days_between"]("2026-01-01", "2125-12-31") > 25_000
