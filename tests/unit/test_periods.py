import pytest

from barometre.periods import PeriodError, expand_period_spec, parse_period


@pytest.mark.parametrize("label,expected", [
    ("2014", ("2014", 2014, 2014)),
    (2014, ("2014", 2014, 2014)),
    ("2014.0", ("2014", 2014, 2014)),
    ("1999-2009", ("1999-2009", 1999, 2009)),
])
def test_parse_period(label, expected):
    assert parse_period(label) == expected


def test_en_dash_is_refused_not_guessed():
    with pytest.raises(PeriodError) as exc:
        parse_period("2009–2014")
    assert str(exc.value) == "period '2009–2014' is neither a year 'YYYY' nor a span 'YYYY-YYYY' (ASCII hyphen)"


def test_backwards_span_is_refused():
    with pytest.raises(PeriodError, match="end year must be after start year"):
        parse_period("2014-2009")


def test_expand():
    assert expand_period_spec(["2012..2014", "2016"]) == ("2012", "2013", "2014", "2016")
    assert expand_period_spec(["2019-2020..2021-2022"]) == ("2019-2020", "2020-2021", "2021-2022")
