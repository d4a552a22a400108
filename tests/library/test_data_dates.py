"""Tests for the date strings of kerasdl.data: every style, held-out dates, vocabularies, padding, bad arguments."""

import datetime
import re

import numpy as np
import pytest

from kerasdl import data
from kerasdl.errors import DataError


def test_each_style_writes_3_may_1979_as_its_name():
    day = datetime.date(1979, 5, 3)
    assert day.weekday() == data.WEEKDAYS.index("Thursday")
    for name, style in data.DATE_STYLES.items():
        assert style(day) == name


def test_styles_do_not_follow_the_locale():
    # strftime's %B follows the locale; the styles use the module's own English names.
    day = datetime.date(2001, 9, 30)
    written = [style(day) for style in data.DATE_STYLES.values()]
    assert "30 September 2001" in written and "Sunday, September 30 2001" in written
    assert "30/09/01" in written and "30 september 01" in written and "30-Sep-2001" in written


def test_pairs_are_the_same_date_written_two_ways():
    human, iso = data.date_pairs(500, seed=3)
    assert len(human) == len(iso) == 500
    for text, answer in zip(human, iso):
        day = datetime.date.fromisoformat(answer)
        assert 1950 <= day.year <= 2049
        assert text in {style(day) for style in data.DATE_STYLES.values()}
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", answer)


def test_every_style_is_drawn_and_the_seed_decides():
    human, iso = data.date_pairs(2000, seed=0)
    assert data.date_pairs(2000, seed=0) == (human, iso)
    assert data.date_pairs(2000, seed=1) != (human, iso)
    drawn = set()
    for text, answer in zip(human, iso):
        day = datetime.date.fromisoformat(answer)
        drawn |= {name for name, style in data.DATE_STYLES.items() if style(day) == text}
    assert drawn == set(data.DATE_STYLES)


def test_two_digit_years_name_one_year_of_the_span():
    human, iso = data.date_pairs(3000, seed=0, styles=["03/05/79"])
    by_suffix = {}
    for text, answer in zip(human, iso):
        by_suffix.setdefault(text[-2:], set()).add(answer[:4])
    assert all(len(years) == 1 for years in by_suffix.values())
    assert by_suffix["79"] == {"1979"} and by_suffix["05"] == {"2005"}


def test_styles_and_years_can_be_chosen():
    human, iso = data.date_pairs(200, seed=0, first_year=2000, last_year=2000, styles=["May 3, 1979"])
    assert all(answer.startswith("2000-") for answer in iso)
    assert all(re.fullmatch(r"[A-Z][a-z]+ \d{1,2}, 2000", text) for text in human)


def test_excluded_dates_are_never_drawn():
    _, train = data.date_pairs(20000, seed=0)
    _, held_out = data.date_pairs(2000, seed=1, exclude=train)
    assert not set(held_out) & set(train)
    _, overlapping = data.date_pairs(2000, seed=1)
    assert set(overlapping) & set(train)  # without exclude, the same dates come back


def test_excluding_every_date_is_an_error_not_a_hang():
    every_day = [(datetime.date(2000, 1, 1) + datetime.timedelta(days)).isoformat() for days in range(366)]
    with pytest.raises(DataError, match="excluded"):
        data.date_pairs(5, first_year=2000, last_year=2000, exclude=every_day)
    _, iso = data.date_pairs(5, first_year=2000, last_year=2000, exclude=every_day[1:])
    assert iso == ["2000-01-01"] * 5


@pytest.mark.parametrize(
    "arguments, words",
    [
        ({"num_samples": 0}, "num_samples"),
        ({"num_samples": 2.5}, "num_samples"),
        ({"styles": ["3rd of May"]}, "unknown date style '3rd of May'"),
        ({"styles": []}, "unknown date style"),
        ({"first_year": 1900, "last_year": 2049}, "two-digit year"),
        ({"first_year": 2000, "last_year": 1999}, "span"),
        ({"first_year": "1950"}, "first_year"),
        ({"last_year": 10_000}, "last_year"),
    ],
)
def test_bad_arguments_say_what_to_do(arguments, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        data.date_pairs(**{"num_samples": 10, **arguments})


def test_vocabularies_cover_every_style_and_pad_with_id_0():
    human_vocabulary, iso_vocabulary = data.date_vocabularies()
    assert human_vocabulary.chars[0] == "_" and iso_vocabulary.chars == list("-0123456789")
    human, iso = data.date_pairs(3000, seed=5, first_year=1900, last_year=1999)
    for text in human:
        human_vocabulary.encode(text)  # raises DataError on a character it lacks
    assert "_" not in "".join(human)
    for answer in iso:
        assert iso_vocabulary.decode(iso_vocabulary.encode(answer)) == answer


def test_encode_padded_puts_zeros_after_each_text():
    vocabulary, _ = data.date_vocabularies()
    ids = data.encode_padded(["3 May 1979", "03/05/79"], vocabulary, 12)
    assert ids.shape == (2, 12) and ids.dtype == np.int32
    assert vocabulary.decode(ids[0]) == "3 May 1979__" and vocabulary.decode(ids[1]) == "03/05/79____"
    assert (ids[1, 8:] == 0).all() and (ids[1, :8] != 0).all()


def test_encode_padded_rejects_a_text_longer_than_length():
    vocabulary, _ = data.date_vocabularies()
    with pytest.raises(DataError, match="more than length=5"):
        data.encode_padded(["3 May 1979"], vocabulary, 5)
    with pytest.raises(ValueError, match="length"):
        data.encode_padded(["3 May"], vocabulary, 0)
