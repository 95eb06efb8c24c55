"""Chinese numerals in the 拟举办时间 and 预计活动规模 cells read as the Arabic ones do, and 一 as a word stays a word."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.numbers import read_people
from parsers.numerals import count_digits, date_digits, numeral_value
from parsers.timing import read_timing

D = dt.date


@pytest.mark.parametrize(
    ("written", "stage", "start", "end"),
    [
        ("五月二十八日至三十日", None, D(2021, 5, 28), D(2021, 5, 30)),
        ("五月二十八日—六月二日", None, D(2021, 5, 28), D(2021, 6, 2)),
        ("二〇二一年五月二十八日", None, D(2021, 5, 28), D(2021, 5, 28)),
        ("二零二一年五月二十八日", None, D(2021, 5, 28), D(2021, 5, 28)),
        ("二○二一年五月二十八日至二〇二一年五月三十日", None, D(2021, 5, 28), D(2021, 5, 30)),
        ("二〇二二年五月二十八日", None, D(2022, 5, 28), D(2022, 5, 28)),
        ("5月二十八日", None, D(2021, 5, 28), D(2021, 5, 28)),
        ("五月28日—三十日", None, D(2021, 5, 28), D(2021, 5, 30)),
        ("第三阶段；六月八日至十日", 3, D(2021, 6, 8), D(2021, 6, 10)),
        ("第二阶段：五月二十八日—五月三十日", 2, D(2021, 5, 28), D(2021, 5, 30)),
        ("第二阶段 五月廿八日至卅日", 2, D(2021, 5, 28), D(2021, 5, 30)),
        ("二阶段；五月二十八号", 2, D(2021, 5, 28), D(2021, 5, 28)),
        ("第一阶段；五月十二日-十四日", 1, D(2021, 5, 12), D(2021, 5, 14)),
        ("第三阶段；六月十八日到六月二十日", 3, D(2021, 6, 18), D(2021, 6, 20)),
        ("第二阶段；五月 二十八 日", 2, D(2021, 5, 28), D(2021, 5, 28)),
        ("第二阶段；五月二十八—三十日", 2, D(2021, 5, 28), D(2021, 5, 30)),
        ("第二阶段；十二月十二日", 2, D(2021, 12, 12), D(2021, 12, 12)),
        ("第三阶段；六月三十一日", 3, None, None),
    ],
)
def test_dates_in_chinese_numerals(written: str, stage: int | None, start: D | None, end: D | None) -> None:
    timing = read_timing(written, 2021)
    assert (timing.stage, timing.start, timing.end) == (stage, start, end)


def test_dates_are_shown_as_written() -> None:
    timing = read_timing("第二阶段；五月二十八日—六月二日", 2021)
    assert timing.stage_text == "第二阶段"
    assert timing.dates_text == "五月二十八日—六月二日"
    invalid = read_timing("第三阶段；六月三十一日", 2021)
    assert (invalid.dates_problem, invalid.dates_text) == ("invalid", "六月三十一日")


@pytest.mark.parametrize("written", ["十二月", "二〇二一年五月", "六月中旬", "五月下旬", "第二阶段；五月"])
def test_a_month_without_a_day_is_still_unparsed(written: str) -> None:
    assert read_timing(written, 2021).dates_problem == "unparsed"


@pytest.mark.parametrize(
    ("written", "digits"),
    [
        ("十二月", "12月"),
        ("十一月三十日", "11月30日"),
        ("二〇二一年五月", "2021年5月"),
        ("二零二一年五月二十八日", "2021年5月28日"),
        ("三十一号", "31号"),
        ("5月二十八日", "5月28日"),
        # 一 as a word, not a date: untouched.
        ("一项一表", "一项一表"),
        ("统一安排，一线职工", "统一安排，一线职工"),
        ("统一五月", "统一5月"),
        ("第三阶段", "第三阶段"),
        ("周一至周五", "周一至周五"),
        ("一个月内", "一个月内"),
    ],
)
def test_date_digits(written: str, digits: str) -> None:
    assert date_digits(written) == digits


@pytest.mark.parametrize(
    ("written", "people"),
    [
        ("约一千二百人", 1200),
        ("一千二百余人", 1200),
        ("两百人", 200),
        ("1200余人", 1200),
        ("三十人左右", 30),
        ("三百人左右", 300),
        ("约1200人", 1200),
        ("一千二百人次", 1200),
        ("一万两千人", 12000),
        ("1万2千人", 12000),
        ("1.5万人次", 15000),
        ("百余人", 100),
        ("千余人", 1000),
        ("万余人", 10000),
        ("二三十人", 30),
        ("两三百人", 300),
        ("一百至一百五十人", 150),
        ("100-150人", 150),
        ("十来人", 10),
        ("约一千", 1000),
        ("一千多人", 1000),
        ("二百", 200),
        ("5个班共一百二十人", 120),
        ("第一批三十人，第二批五十人", 50),
        ("统一组织一线职工约百人", 100),
        ("线上1000人次，线下二百人", 1000),
        ("大型", None),
        ("1" * 400 + "人", None),
        ("", None),
    ],
)
def test_people_in_chinese_numerals(written: str, people: int | None) -> None:
    assert read_people(written) == people


@pytest.mark.parametrize(
    ("written", "digits"),
    [
        ("约一千二百人", "约1200人"),
        ("一项一表，统一组织", "一项一表，统一组织"),
        ("一线职工五十名", "一线职工50名"),
        ("第一批三十人", "第一批30人"),
        ("万一下雨改在线上", "万一下雨改在线上"),
        ("1.5万人", "1.5万人"),
    ],
)
def test_count_digits(written: str, digits: str) -> None:
    assert count_digits(written) == digits


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("一千二百", 1200),
        ("一千二", 1200),
        ("两百", 200),
        ("百", 100),
        ("三五十", 50),
        ("廿八", 28),
        ("万一", None),
        ("百万", None),
    ],
)
def test_numeral_value(numeral: str, value: int | None) -> None:
    assert numeral_value(numeral) == value


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="零〇○一二两三四五六七八九十百千万廿卅年月日号人余多约第阶段至—-.0123456789 ", max_size=30))
def test_any_run_of_numerals_reads_without_an_exception(text: str) -> None:
    read_timing(text, 2021)
    assert read_people(text) is None or read_people(text) >= 0
    assert isinstance(date_digits(text), str) and isinstance(count_digits(text), str)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="零〇一二两三四五六七八九十百千万廿卅0123456789.", min_size=1, max_size=12))
def test_any_numeral_is_a_number_or_none(numeral: str) -> None:
    value = numeral_value(numeral)
    assert value is None or value >= 0
