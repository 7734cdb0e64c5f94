"""The strict `.ts` reader (zoo.data._ts) on small hand-written files, good and malformed."""

from __future__ import annotations

import pytest

from zoo import DataError
from zoo.data._ts import parse_ts

UNIVARIATE = """\
# a comment
@problemName Tiny
@timeStamps false
@missing false
@univariate true
@equalLength true
@seriesLength 3
@classLabel true a b
@data
1,2,3:a

4.5,-5e-1,6:b
"""

MULTIVARIATE_VARIABLE = """\
@problemName Var
@univariate false
@dimensions 2
@equalLength false
@classLabel true x y z
@data
1,2:3,4:z
5:6:x
"""


def test_univariate_file_is_read() -> None:
    data = parse_ts(UNIVARIATE, "tiny.ts")
    assert data.classes == ("a", "b") and data.channels == 1
    assert data.series == [[[1.0, 2.0, 3.0]], [[4.5, -0.5, 6.0]]]
    assert data.labels == ["a", "b"] and data.lengths == [3, 3]


def test_multivariate_variable_length_file_is_read() -> None:
    data = parse_ts(MULTIVARIATE_VARIABLE, "var.ts")
    assert data.channels == 2 and data.classes == ("x", "y", "z")
    assert data.series == [[[1.0, 2.0], [3.0, 4.0]], [[5.0], [6.0]]]
    assert data.labels == ["z", "x"] and data.lengths == [2, 1]


def _replace(old: str, new: str, text: str = UNIVARIATE) -> str:
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_replace("@data\n", ""), r"bad\.ts:9: expected an @tag or @data before the samples"),
        (UNIVARIATE.split("@data")[0], r"bad\.ts: no @data line"),
        (_replace("@missing false", "@missingness false"), r"bad\.ts:4: unknown tag @missingness"),
        (_replace("@missing false", "@seriesLength 3"), r"bad\.ts:7: @serieslength given twice"),
        (_replace("@timeStamps false", "@timeStamps true"), r"bad\.ts:9: @timeStamps true"),
        (_replace("@classLabel true a b", "@classLabel false"), r"bad\.ts:9: needs '@classLabel"),
        (_replace("@classLabel true a b", "@classLabel true a a"), r"bad\.ts:9: .*twice"),
        (_replace("1,2,3:a", "1,2,3:c"), r"bad\.ts:10: label 'c' is not one of"),
        (_replace("1,2,3:a", "1,x,3:a"), r"bad\.ts:10: 'x' is not a number"),
        (_replace("1,2,3:a", "1,?,3:a"), r"bad\.ts:10: '\?' is not a number"),
        (_replace("1,2,3:a", "1,nan,3:a"), r"bad\.ts:10: 'nan' is not a finite number"),
        (_replace("1,2,3:a", "1,,3:a"), r"bad\.ts:10: '' is not a number"),
        (_replace("1,2,3:a", "1,2:3:a"), r"bad\.ts:10: 2 channel\(s\) and a label, expected 1"),
        (_replace("1,2,3:a", "1,2:a"), r"bad\.ts:10: 2 values, but @seriesLength is 3"),
        (_replace("1,2,3:a\n\n4.5,-5e-1,6:b\n", ""), r"bad\.ts: no samples after @data"),
        (_replace("@univariate true", "@univariate maybe"), r"bad\.ts:9: expected true or false"),
        ("1,2:a\n", r"bad\.ts:1: expected an @tag or @data"),
        (
            _replace(
                "2,3:4,5:z", "2:3,4:z", MULTIVARIATE_VARIABLE.replace("1,2:3,4:z", "2,3:4,5:z")
            ),
            r"bad\.ts:7: the channels of one sample have different lengths",
        ),
        (
            MULTIVARIATE_VARIABLE.replace("@dimensions 2", "@dimensions two"),
            r"bad\.ts:6: expected a positive integer",
        ),
        (
            _replace("@seriesLength 3\n", "").replace("4.5,-5e-1,6:b", "4.5:b"),
            r"bad\.ts: @equalLength true, but samples have different lengths",
        ),
    ],
)
def test_malformed_files_are_refused_with_file_and_line(text: str, message: str) -> None:
    with pytest.raises(DataError, match=message) as info:
        parse_ts(text, "bad.ts")
    assert "\n" not in str(info.value)
