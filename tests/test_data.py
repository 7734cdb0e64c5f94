"""Data sources: built-in tasks are deterministic and correct; CSV windowing and its errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zoo import DataError
from zoo.data._load import (
    CLASSIFICATION,
    DataOptions,
    DataSpec,
    builtin_dataset,
    csv_dataset,
    csv_windows,
    evaluation_split,
    load_dataset,
)


def _csv(tmp_path: Path, text: str, name: str = "series.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _series(tmp_path: Path, rows: int = 20) -> Path:
    """Columns t (0, 1, 2, ...), a = 10 t, label (even/odd)."""
    lines = ["t,a,label"] + [f"{i},{10 * i},{'even' if i % 2 == 0 else 'odd'}" for i in range(rows)]
    return _csv(tmp_path, "\n".join(lines) + "\n")


# --- built-in tasks ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sine", "adding", "freq"])
def test_builtin_tasks_are_deterministic_per_seed(name: str) -> None:
    options = DataOptions(samples=40, seq_len=12)
    a, b = builtin_dataset(name, options, seed=3), builtin_dataset(name, options, seed=3)
    other = builtin_dataset(name, options, seed=4)
    assert np.array_equal(a.train.x, b.train.x) and np.array_equal(a.val.y, b.val.y)
    assert not np.array_equal(a.train.x, other.train.x)
    assert a.train.x.shape == (40, 12, a.spec.input_size) and a.train.x.dtype == np.float32
    assert len(a.val) == 10
    assert not np.array_equal(a.train.x[:10], a.val.x)  # separate streams per split


def test_adding_problem_marks_one_value_per_half_and_sums_them() -> None:
    data = builtin_dataset("adding", DataOptions(samples=200, seq_len=20), seed=0)
    x, y = data.train.x, data.train.y
    markers = x[:, :, 1]
    assert np.array_equal(markers.sum(axis=1), np.full(200, 2.0))
    assert np.all(markers[:, :10].sum(axis=1) == 1) and np.all(markers[:, 10:].sum(axis=1) == 1)
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * markers).sum(axis=1), rtol=1e-6)
    assert data.spec.input_size == 2 and data.spec.output_size == 1


def test_sine_targets_are_the_next_step_of_a_smooth_signal() -> None:
    data = builtin_dataset("sine", DataOptions(samples=500), seed=1)
    x, y = data.train.x, data.train.y
    assert x.shape == (500, 50, 1) and y.shape == (500, 1)
    # Persistence (last value) is a decent forecast, far better than the mean.
    persistence = float(((x[:, -1] - y) ** 2).mean())
    assert persistence < 0.5 * float(y.var())


def test_freq_is_a_four_class_task() -> None:
    data = builtin_dataset("freq", DataOptions(samples=400), seed=0)
    assert data.spec.task == CLASSIFICATION and data.spec.output_size == 4
    assert data.train.y.dtype == np.int64 and set(np.unique(data.train.y)) == {0, 1, 2, 3}
    assert data.spec.classes == ("0.04", "0.06", "0.08", "0.1")


def test_unknown_source_suggests_a_task() -> None:
    with pytest.raises(DataError, match=r"Unknown data source 'sinee'.*Did you mean 'sine'\?"):
        load_dataset("sinee", DataOptions(), seed=0)


def test_csv_options_are_refused_for_builtin_tasks() -> None:
    with pytest.raises(DataError, match="--target, --window apply to CSV files only"):
        load_dataset("sine", DataOptions(target="x", window=3), seed=0)


def test_test_split_of_a_builtin_task_is_new_data() -> None:
    data = builtin_dataset("sine", DataOptions(samples=40, seq_len=10), seed=0)
    test = evaluation_split(data.spec, "sine")
    assert test.x.shape == data.val.x.shape and not np.array_equal(test.x, data.val.x)
    longer = evaluation_split(data.spec, "sine", seq_len=30)
    assert longer.x.shape == (10, 30, 1)
    with pytest.raises(DataError, match=r"trained on built-in task 'sine'.*--data sine"):
        evaluation_split(data.spec, "adding")


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_windows_targets_split_and_scaling(tmp_path: Path) -> None:
    path = _series(tmp_path, rows=20)
    data = csv_dataset(path, DataOptions(target="a", features=("t",), window=4, horizon=2))
    # Windows end at rows 3..17 (15 windows), target row = end + 2; 3 validate (20%).
    assert len(data.train) == 12 and len(data.val) == 3
    assert data.train.rows is not None and data.val.rows is not None
    assert data.train.rows.tolist() == list(range(5, 17))
    assert data.val.rows.tolist() == [17, 18, 19]
    scaling = data.spec.scaling
    assert scaling is not None
    # Feature statistics come from the rows training windows see: 0..14.
    assert scaling.x_mean == pytest.approx((7.0,)) and scaling.x_std[0] == pytest.approx(
        np.arange(15).std()
    )
    first = data.train.x[0, :, 0] * scaling.x_std[0] + scaling.x_mean[0]
    np.testing.assert_allclose(first, [0, 1, 2, 3], atol=1e-5)
    target = scaling.unscale_y(data.train.y[:, 0])
    np.testing.assert_allclose(target, 10 * np.arange(5, 17), rtol=1e-5)
    assert data.spec.features == ("t",) and data.spec.file_sha256 is not None


def test_csv_default_features_are_the_numeric_columns(tmp_path: Path) -> None:
    data = csv_dataset(_series(tmp_path), DataOptions(target="a", window=3))
    assert data.spec.features == ("t", "a") and data.spec.horizon == 1
    assert data.train.x.shape[1:] == (3, 2)


def test_csv_classification_labels(tmp_path: Path) -> None:
    data = csv_dataset(
        _series(tmp_path), DataOptions(target="label", window=3, task=CLASSIFICATION)
    )
    assert data.spec.classes == ("even", "odd") and data.spec.output_size == 2
    assert data.spec.features == ("t", "a") and data.spec.horizon == 0
    assert data.train.rows is not None
    expected = [r % 2 for r in data.train.rows]  # window's last row: even -> 0, odd -> 1
    assert data.train.y.tolist() == expected


@pytest.mark.parametrize(
    ("text", "options", "message"),
    [
        (
            "t,a\n1,2\n2,3\n3,4\n",
            {"window": 3},
            r"too few rows \(3\) for --window 3 and --horizon 1",
        ),
        ("t,a\n" + "1,2\n" * 10, {"window": 5, "horizon": 6}, "makes 0 window"),
        ("t,a\n" + "1,2\n" * 10, {"window": 0}, "--window must be at least 1, got 0"),
        ("t,a\n" + "1,2\n" * 10, {"window": 2, "horizon": -1}, "--horizon must be 0 or more"),
        ("t,b\n" + "1,2\n" * 10, {"window": 2}, r"no column 'a'\. Columns: t, b\."),
        ("t,aa\n" + "1,2\n" * 10, {"window": 2}, r"no column 'a'\. Did you mean 'aa'\?"),
        (
            "t,a\n" + "1,2\n" * 10,
            {"window": 2, "features": ("t", "x")},
            r"no column 'x'\. Columns: t, a\.",
        ),
        ("t,a\n1,2\n2,abc\n" + "1,2\n" * 8, {"window": 2}, r"row 2 \(line 3\), column 'a': 'abc'"),
        ("t,a\n1,2\n2,\n" + "1,2\n" * 8, {"window": 2}, r"row 2 \(line 3\), column 'a' is empty"),
        ("t,a\n1,inf\n" + "1,2\n" * 8, {"window": 2}, "'inf' is not a finite number"),
        ("t,a\n1,2\n1,2,3\n", {"window": 1}, "row 2 has 3 fields, the header has 2"),
        ("", {"window": 2}, "empty file"),
        ("t,t\n1,2\n", {"window": 1}, r"duplicate column\(s\) \['t'\]"),
        ("t,a\n" + "1,2\n" * 10, {"window": 2, "target": None}, "needs --target COLUMN"),
        ("t,a\n" + "1,2\n" * 10, {"window": None}, "needs --window N"),
        (
            "t,a\n" + "1,x\n" * 10,
            {"window": 2, "task": CLASSIFICATION},
            r"column 'a' has 1 distinct label\(s\) \(x\)",
        ),
        ("t,a\n" + "1,2\n" * 10, {"window": 2, "seq_len": 5}, "--seq-len and --samples size"),
    ],
)
def test_csv_errors_are_clear(
    tmp_path: Path, text: str, options: dict[str, object], message: str
) -> None:
    path = _csv(tmp_path, text)
    chosen = {"target": "a", **options}
    with pytest.raises(DataError, match=message) as info:
        csv_dataset(path, DataOptions(**chosen))  # type: ignore[arg-type]
    assert "Traceback" not in str(info.value)


def test_missing_csv_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"CSV file '.*nope\.csv' not found"):
        load_dataset(str(tmp_path / "nope.csv"), DataOptions(target="a", window=2), seed=0)


def test_prediction_windows_reach_past_the_end(tmp_path: Path) -> None:
    data = csv_dataset(_series(tmp_path), DataOptions(target="a", features=("t",), window=4))
    spec = data.spec
    new = _csv(tmp_path, "t\n" + "\n".join(str(i) for i in range(100, 106)) + "\n", "new.csv")
    windows = csv_windows(spec, new, labelled=False)
    assert windows.rows.tolist() == [4, 5, 6]  # windows end at rows 3, 4, 5; horizon 1
    assert windows.y is None and not windows.has_target.any()
    with pytest.raises(DataError, match="no column 'a'"):
        csv_windows(spec, new, labelled=True)
    with pytest.raises(DataError, match=r"missing feature column\(s\) \['t'\]"):
        csv_windows(spec, _csv(tmp_path, "a\n1\n2\n3\n4\n5\n", "other.csv"), labelled=False)


def test_unseen_labels_are_refused(tmp_path: Path) -> None:
    data = csv_dataset(
        _series(tmp_path), DataOptions(target="label", window=3, task=CLASSIFICATION)
    )
    new = _csv(tmp_path, "t,a,label\n" + "1,2,even\n" * 3 + "1,2,third\n", "new.csv")
    with pytest.raises(DataError, match=r"label\(s\) \['third'\].*knows even, odd"):
        csv_windows(data.spec, new, labelled=True)


def test_data_spec_round_trips_through_json() -> None:
    import json

    spec = builtin_dataset("freq", DataOptions(samples=8), seed=2).spec
    assert DataSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_an_empty_cell_in_a_numeric_column_is_reported_not_skipped(tmp_path: Path) -> None:
    path = _csv(tmp_path, "t,a,b\n" + "1,2,3\n" * 5 + "1,2,\n" + "1,2,3\n" * 4)
    with pytest.raises(DataError, match=r"row 6 \(line 7\), column 'b' is empty"):
        csv_dataset(path, DataOptions(target="a", window=2))


def test_builtin_options_are_refused_for_a_csv_model(tmp_path: Path) -> None:
    spec = csv_dataset(_series(tmp_path), DataOptions(target="a", window=3)).spec
    path = str(tmp_path / "series.csv")
    assert len(evaluation_split(spec, path)) == 20 - 3 - 1 + 1
    for kwargs in ({"seed": 1}, {"seq_len": 9}):
        with pytest.raises(DataError, match="--seq-len and --seed apply to built-in tasks"):
            evaluation_split(spec, path, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="trained on CSV data"):
        evaluation_split(spec, "sine")
