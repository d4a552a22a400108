"""Tests for kerasdl.data: shapes, dtypes, ranges and every DataError path."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from kerasdl import data
from kerasdl.errors import DataError


@pytest.fixture(scope="module")
def digits():
    return data.load_digits()


@pytest.fixture(scope="module")
def corpus():
    return data.load_text()


# ---------------------------------------------------------------- digits


def test_digits_shapes_dtypes_and_ranges(digits):
    (x_train, y_train), (x_test, y_test) = digits
    assert len(x_train) + len(x_test) == 1797
    assert len(x_train) == len(y_train) and len(x_test) == len(y_test)
    assert abs(len(x_train) - len(x_test)) <= 1
    assert x_train.shape[1:] == (8, 8, 1) and x_test.shape[1:] == (8, 8, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0  # raw 0..16 scaled by 1/16
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))


def test_digits_split_is_stratified(digits):
    (_, y_train), (_, y_test) = digits
    train_counts = np.bincount(y_train, minlength=10)
    test_counts = np.bincount(y_test, minlength=10)
    assert np.abs(train_counts - test_counts).max() <= 1


def test_digits_test_fraction_and_seed():
    (x_train, _), (x_test, y_test) = data.load_digits(test_fraction=0.2, seed=1)
    assert len(x_test) == 360 and len(x_train) == 1797 - 360  # ceil(0.2 * 1797)
    (_, _), (_, y_same) = data.load_digits(test_fraction=0.2, seed=1)
    (_, _), (_, y_other) = data.load_digits(test_fraction=0.2, seed=2)
    assert np.array_equal(y_test, y_same)
    assert not np.array_equal(y_test, y_other)


@pytest.mark.parametrize("test_fraction", [0, 1, -0.1, 1.5, "half", 0.001, 0.999])
def test_digits_rejects_bad_test_fraction(test_fraction):
    with pytest.raises(ValueError, match="test_fraction"):
        data.load_digits(test_fraction=test_fraction)


# ---------------------------------------------------------------- sine waves


def test_noisy_sine_is_sine_plus_noise():
    series = data.noisy_sine(num_points=2000, period=50.0, noise=0.1, seed=0)
    assert series.shape == (2000,) and series.dtype == np.float32
    clean = np.sin(2 * np.pi * np.arange(2000) / 50.0)
    assert np.allclose(data.noisy_sine(2000, 50.0, noise=0.0), clean, atol=1e-6)
    assert 0.09 < np.std(series - clean) < 0.11
    assert np.array_equal(series, data.noisy_sine(seed=0))
    assert not np.array_equal(series, data.noisy_sine(seed=1))


def test_make_windows_targets_are_the_next_values():
    series = data.noisy_sine(num_points=100)
    x, y = data.make_windows(series, window=10, horizon=3)
    assert x.shape == (100 - 10 - 3 + 1, 10, 1) and y.shape == (88, 3)
    assert x.dtype == np.float32 and y.dtype == np.float32
    for i in (0, 41, 87):
        assert np.array_equal(x[i, :, 0], series[i : i + 10])
        assert np.array_equal(y[i], series[i + 10 : i + 13])
    x, y = data.make_windows(series, window=5)
    assert y.shape == (95, 1)
    assert np.array_equal(y[:-1, 0], x[1:, -1, 0])  # each target is the next window's last value


def test_make_windows_exact_length_gives_one_sample():
    x, y = data.make_windows(np.arange(7.0), window=5, horizon=2)
    assert x.shape == (1, 5, 1) and y.tolist() == [[5.0, 6.0]]


def test_make_windows_short_series_names_the_lengths():
    with pytest.raises(DataError, match=r"series has 6 values.*5 \+ 2 = 7"):
        data.make_windows(np.zeros(6), window=5, horizon=2)


@pytest.mark.parametrize(
    "series, window, horizon",
    [(np.zeros((10, 2)), 3, 1), (np.zeros(10), 0, 1), (np.zeros(10), 3, 0), (np.zeros(10), 2.5, 1)],
)
def test_make_windows_rejects_bad_arguments(series, window, horizon):
    with pytest.raises(ValueError):
        data.make_windows(series, window=window, horizon=horizon)


def test_noisy_sine_rejects_bad_arguments():
    for kwargs in ({"num_points": 0}, {"period": 0.0}, {"noise": -1.0}):
        with pytest.raises(ValueError):
            data.noisy_sine(**kwargs)


# ---------------------------------------------------------------- text


def test_default_text_is_python_documentation(corpus):
    assert isinstance(corpus, str)
    assert 400_000 < len(corpus) < 600_000
    assert 90 < len(set(corpus)) < 120
    assert "lambda" in corpus
    assert corpus == data.load_text()  # deterministic


def test_load_text_reads_utf8_file(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text("héllo ✓ wörld\n", encoding="utf-8")
    assert data.load_text(path) == "héllo ✓ wörld\n"
    assert data.load_text(str(path)) == "héllo ✓ wörld\n"


def test_load_text_rejects_non_utf8(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DataError, match="latin.txt.*not UTF-8.*re-save it as UTF-8") as caught:
        data.load_text(path)
    assert "\n" not in str(caught.value)


def test_load_text_missing_file(tmp_path):
    with pytest.raises(DataError, match="missing.txt.*does not exist"):
        data.load_text(tmp_path / "missing.txt")


def test_load_text_directory(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        data.load_text(tmp_path)


def test_vocabulary_round_trip(corpus):
    vocab = data.Vocabulary.from_text(corpus)
    assert vocab.chars == sorted(set(corpus)) and len(vocab) == len(set(corpus))
    ids = vocab.encode(corpus)
    assert ids.dtype == np.int32 and ids.shape == (len(corpus),)
    assert ids.min() == 0 and ids.max() == len(vocab) - 1
    assert vocab.decode(ids) == corpus
    assert vocab.decode(ids[:50].tolist()) == corpus[:50]
    assert vocab.decode([]) == ""


def test_vocabulary_small_example():
    vocab = data.Vocabulary.from_text("hello")
    assert vocab.chars == ["e", "h", "l", "o"]
    assert vocab.encode("hole").tolist() == [1, 3, 2, 0]
    assert vocab.decode(np.array([1, 0, 2, 2, 3])) == "hello"


def test_vocabulary_unknown_character():
    vocab = data.Vocabulary.from_text("abc")
    with pytest.raises(DataError, match=r"'z' \(U\+007A\) at position 2"):
        vocab.encode("abzc")


@pytest.mark.parametrize("bad_id", [3, -1, 100])
def test_vocabulary_decode_out_of_range(bad_id):
    vocab = data.Vocabulary.from_text("abc")
    with pytest.raises(DataError, match=f"id {bad_id} is out of range.*0..2"):
        vocab.decode([0, bad_id])


def test_vocabulary_decode_rejects_bad_shapes_and_dtypes():
    vocab = data.Vocabulary.from_text("abc")
    with pytest.raises(ValueError, match="1-D"):
        vocab.decode([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="integer"):
        vocab.decode([0.0, 1.0])
    with pytest.raises(ValueError, match="distinct"):
        data.Vocabulary(["a", "a"])


def test_next_char_windows_shift_by_one():
    ids = np.arange(20, dtype=np.int32) * 3
    x, y = data.next_char_windows(ids, sequence_length=5, step=2)
    assert x.shape == y.shape == ((20 - 6) // 2 + 1, 5)
    assert x.dtype == np.int32 and y.dtype == np.int32
    assert np.array_equal(x[:, 1:], y[:, :-1])
    for i in range(len(x)):
        assert np.array_equal(x[i], ids[2 * i : 2 * i + 5])
        assert np.array_equal(y[i], ids[2 * i + 1 : 2 * i + 6])


def test_next_char_windows_on_text(corpus):
    vocab = data.Vocabulary.from_text(corpus)
    ids = vocab.encode(corpus[:1000])
    x, y = data.next_char_windows(ids, sequence_length=100, step=50)
    assert x.shape == (18, 100)
    assert vocab.decode(y[3]) == corpus[151:251]


def test_next_char_windows_exact_length_gives_one_window():
    x, y = data.next_char_windows([4, 5, 6], sequence_length=2)
    assert x.tolist() == [[4, 5]] and y.tolist() == [[5, 6]]


def test_next_char_windows_short_corpus():
    with pytest.raises(DataError, match=r"corpus has 5 characters.*sequence_length\+1 = 6.*shorter sequence_length"):
        data.next_char_windows(np.arange(5), sequence_length=5)


def test_next_char_windows_rejects_bad_arguments():
    with pytest.raises(ValueError, match="sequence_length"):
        data.next_char_windows(np.arange(10), sequence_length=0)
    with pytest.raises(ValueError, match="step"):
        data.next_char_windows(np.arange(10), sequence_length=3, step=0)
    with pytest.raises(ValueError, match="1-D"):
        data.next_char_windows(np.zeros((4, 4), dtype=int), sequence_length=2)


# ---------------------------------------------------------------- downloadable datasets


def test_unknown_dataset_lists_the_valid_names():
    for function in (data.is_cached, data.load_keras_dataset):
        with pytest.raises(DataError, match="'imagenet'.*one of mnist, fashion_mnist, cifar10"):
            function("imagenet")


def _run(script, keras_home):
    """Return the JSON that `script` prints, run in a fresh Python with KERAS_HOME=keras_home."""
    env = dict(os.environ, KERAS_HOME=str(keras_home), TF_CPP_MIN_LOG_LEVEL="3")
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _fake_cache(keras_home, names):
    for name in names:
        for relative in data.CACHED_FILES[name]:
            path = keras_home / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"not really a dataset")


CACHE_REPORT = """
    import json, sys
    from kerasdl import data
    print(json.dumps({
        "cached": {name: data.is_cached(name) for name in data.CACHED_FILES},
        "keras_imported": "keras" in sys.modules,
    }))
"""


def test_is_cached_looks_where_keras_looks(tmp_path):
    # A fresh process, because Keras reads KERAS_HOME once, when it is imported.
    _fake_cache(tmp_path, ["fashion_mnist"])
    (tmp_path / data.CACHED_FILES["cifar10"][0]).write_bytes(b"x")
    report = _run(CACHE_REPORT, tmp_path)
    assert report == {
        "cached": {"mnist": False, "fashion_mnist": True, "cifar10": True},
        "keras_imported": False,
    }
    (tmp_path / data.CACHED_FILES["fashion_mnist"][2]).unlink()  # one of four files missing
    assert _run(CACHE_REPORT, tmp_path)["cached"]["fashion_mnist"] is False


def test_offline_download_fails_fast_with_one_line(tmp_path):
    # This machine is offline: nothing is cached under an empty KERAS_HOME.
    _fake_cache(tmp_path, ["cifar10"])
    report = _run(
        """
        import contextlib, io, json, socket, time
        from kerasdl import data
        report = {"before": data.is_cached("mnist")}
        for name in ("mnist", "cifar10"):
            start = time.perf_counter()
            printed = io.StringIO()
            try:
                with contextlib.redirect_stdout(printed):
                    data.load_keras_dataset(name)
                report[name] = "loaded"
            except data.DatasetUnavailable as error:
                report[name] = str(error)
            report[name + "_seconds"] = time.perf_counter() - start
            report[name + "_printed"] = printed.getvalue()
        report["timeout"] = socket.getdefaulttimeout()
        report["after"] = data.is_cached("mnist")
        print(json.dumps(report))
        """,
        tmp_path,
    )
    assert report["before"] is False and report["after"] is False
    assert report["timeout"] is None  # the 15 s download timeout was restored
    message = report["mnist"]
    assert "\n" not in message
    assert message.startswith("mnist is not cached in " + str(tmp_path / "datasets"))
    assert "could not be downloaded (offline?" in message
    assert message.endswith("use the offline dataset kerasdl.data.load_digits() instead")
    assert "http" not in message and len(message) < 250, message  # the reason, not Keras's URL
    assert report["mnist_printed"] == ""  # no "Downloading data from <url>" before the error
    # A cached but broken file fails its hash check, so Keras tries to download it again.
    assert report["cifar10"].startswith("cifar10 is cached in")
    assert "kerasdl.data.load_digits()" in report["cifar10"]
    assert report["mnist_seconds"] < 60 and report["cifar10_seconds"] < 60
