"""Datasets as NumPy arrays that need no network: digits, sine waves, text, dates.

Also a guarded loader for the Keras datasets that must be downloaded once
(MNIST, Fashion-MNIST, CIFAR-10). Nothing here imports keras or a framework
at module level.
"""

import contextlib
import datetime
import io
import math
import operator
import os
import socket
import sys
from pathlib import Path

import numpy as np

from kerasdl.errors import DataError, DatasetUnavailable

OFFLINE_ALTERNATIVE = "kerasdl.data.load_digits()"
DOWNLOAD_TIMEOUT_S = 15

# Where keras.datasets (Keras 3.15) caches each dataset, relative to the Keras
# home; every file listed must be there for the loader to skip the download.
CACHED_FILES = {
    "mnist": ["datasets/mnist.npz"],
    "fashion_mnist": [
        "datasets/fashion-mnist/train-labels-idx1-ubyte.gz",
        "datasets/fashion-mnist/train-images-idx3-ubyte.gz",
        "datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz",
        "datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
    ],
    # CIFAR-10 is stored as an archive under this name and re-extracted on each load.
    "cifar10": ["datasets/cifar-10-batches-py-target_archive"],
}


def _positive_int(value, name):
    """Return `value` as an int, or raise ValueError unless it is a whole number >= 1."""
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if number < 1:
        raise ValueError(f"{name} must be at least 1, got {number}")
    return number


# ---------------------------------------------------------------- images


def load_digits(test_fraction=0.5, seed=0):
    """Return scikit-learn's 8x8 digits as (x_train, y_train), (x_test, y_test), split by class.

    x is float32 of shape (n, 8, 8, 1) scaled to [0, 1]; y is int64 in 0..9.
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    try:
        test_fraction = float(test_fraction)
    except (TypeError, ValueError):
        raise ValueError(f"test_fraction must be a number, got {test_fraction!r}") from None
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(
            f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction}; "
            "for example 0.2 keeps 20% of the images for testing"
        )
    digits = sklearn_digits()
    num_images, num_classes = len(digits.target), 10
    num_test = math.ceil(test_fraction * num_images)  # how train_test_split rounds
    if min(num_test, num_images - num_test) < num_classes:
        raise ValueError(
            f"test_fraction={test_fraction} leaves fewer than {num_classes} images on one "
            f"side of the split of {num_images}; use a value between 0.01 and 0.99"
        )
    images = (digits.images / 16.0).astype(np.float32)[..., np.newaxis]  # (n, 8, 8, 1)
    labels = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=test_fraction, random_state=seed, stratify=labels
    )
    return (x_train, y_train), (x_test, y_test)


# ---------------------------------------------------------------- sequences


def noisy_sine(num_points=2000, period=50.0, noise=0.1, seed=0):
    """Return float32 sin(2*pi*t/period) plus Gaussian noise of std `noise`, t = 0..num_points-1."""
    num_points = _positive_int(num_points, "num_points")
    if not period > 0:
        raise ValueError(f"period must be positive, got {period!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be zero or positive, got {noise!r}")
    time = np.arange(num_points)
    rng = np.random.default_rng(seed)
    series = np.sin(2 * np.pi * time / period) + rng.normal(0.0, noise, num_points)
    return series.astype(np.float32)


def make_windows(series, window, horizon=1):
    """Return (x, y): x of shape (samples, window, 1), y the `horizon` values after each window."""
    window = _positive_int(window, "window")
    horizon = _positive_int(horizon, "horizon")
    series = np.asarray(series, dtype=np.float32)
    if series.ndim != 1:
        raise ValueError(f"series must be 1-D, got shape {series.shape}; pass one series at a time")
    if len(series) < window + horizon:
        raise DataError(
            f"series has {len(series)} values, fewer than window + horizon = "
            f"{window} + {horizon} = {window + horizon}; use a longer series or a smaller window"
        )
    spans = np.lib.stride_tricks.sliding_window_view(series, window + horizon)
    x = np.ascontiguousarray(spans[:, :window, np.newaxis])  # (samples, window, 1)
    y = np.ascontiguousarray(spans[:, window:])  # (samples, horizon)
    return x, y


def adding_problem(num_samples, length, seed=0):
    """Return (x, y) for the adding problem: x (samples, length, 2) float32, y (samples, 1) float32.

    The long-range task of Hochreiter & Schmidhuber (1997), in its common modern form: channel 0
    holds values drawn uniformly from [-1, 1], channel 1 is 1 at two steps (one in each half of the
    sequence) and 0 elsewhere; the target is the mean of the two marked values. Predicting 0 for
    every sequence scores an MSE of 1/6 (the target's variance), the level a model that cannot
    find the markers stays at.
    """
    num_samples = _positive_int(num_samples, "num_samples")
    length = _positive_int(length, "length")
    if length < 2:
        raise ValueError(f"length must be at least 2 (one marker in each half), got {length}")
    rng = np.random.default_rng(seed)
    values = rng.uniform(-1.0, 1.0, size=(num_samples, length))  # (samples, length)
    half = length // 2
    first = rng.integers(0, half, size=num_samples)  # a marked step in the first half
    second = rng.integers(half, length, size=num_samples)  # and one in the second half
    markers = np.zeros((num_samples, length))
    rows = np.arange(num_samples)
    markers[rows, first] = markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1).astype(np.float32)  # (samples, length, 2)
    y = ((values[rows, first] + values[rows, second]) / 2.0).astype(np.float32)[:, np.newaxis]  # (samples, 1)
    return x, y


def motif_sequences(num_samples, length, num_symbols=50, num_classes=4, motif_length=3, seed=0, motif_seed=0):
    """Return (x, y): one-hot symbol sequences (samples, length, num_symbols) float32 and labels (samples,) int64.

    Each class has a motif, `motif_length` symbols in a row (the same for every `seed` with the same
    `motif_seed`); a sequence of class k is random symbols with motif k written at a random position,
    so a classifier must spot the motif wherever it is and remember it to the end.
    """
    num_samples = _positive_int(num_samples, "num_samples")
    num_symbols = _positive_int(num_symbols, "num_symbols")
    num_classes = _positive_int(num_classes, "num_classes")
    motif_length = _positive_int(motif_length, "motif_length")
    length = _positive_int(length, "length")
    if length < motif_length:
        raise ValueError(f"length must be at least motif_length = {motif_length}, got {length}")
    if num_symbols < 2 or num_classes > num_symbols**motif_length:
        raise ValueError(
            f"{num_classes} classes need {num_classes} distinct motifs: use more symbols "
            f"or longer motifs (num_symbols={num_symbols}, motif_length={motif_length})"
        )
    motifs = []  # distinct motifs, fixed by motif_seed alone
    motif_rng = np.random.default_rng(motif_seed)
    while len(motifs) < num_classes:
        motif = tuple(motif_rng.integers(0, num_symbols, size=motif_length))
        if motif not in motifs:
            motifs.append(motif)
    rng = np.random.default_rng(seed)
    symbols = rng.integers(0, num_symbols, size=(num_samples, length))  # (samples, length)
    labels = rng.integers(0, num_classes, size=num_samples)  # (samples,)
    starts = rng.integers(0, length - motif_length + 1, size=num_samples)
    for offset in range(motif_length):
        symbols[np.arange(num_samples), starts + offset] = np.array(motifs)[labels, offset]
    x = np.eye(num_symbols, dtype=np.float32)[symbols]  # (samples, length, num_symbols): one-hot
    return x, labels.astype(np.int64)


def vibration_sequences(num_samples, length=60, seed=0):
    """Return (x, y): three sensors' raw readings (samples, length, 3) float32 and labels (samples,) int64.

    Channels: temperature in °C (20 to 80), pressure in hPa (about 1000) and vibration velocity in
    mm/s (a sine of about 1 mm/s with a period of 8 to 12 steps), each with noise. In a faulty
    machine (label 1, half of the samples) the vibration's frequency doubles from a random step in
    the middle third of the sequence on. The channels' scales differ by a factor of a thousand.
    """
    num_samples = _positive_int(num_samples, "num_samples")
    length = _positive_int(length, "length")
    if length < 12:
        raise ValueError(f"length must be at least 12 steps (a vibration period or more), got {length}")
    rng = np.random.default_rng(seed)
    time = np.arange(length)[np.newaxis, :]  # (1, length)
    labels = rng.integers(0, 2, size=num_samples)  # (samples,)
    temperature = rng.uniform(20.0, 80.0, size=(num_samples, 1)) + rng.normal(0.0, 0.5, (num_samples, length))
    pressure = 1000.0 + rng.uniform(-20.0, 20.0, size=(num_samples, 1)) + rng.normal(0.0, 2.0, (num_samples, length))
    period = rng.uniform(8.0, 12.0, size=(num_samples, 1))
    onset = rng.integers(length // 3, 2 * length // 3, size=(num_samples, 1))
    speed = np.where((labels[:, np.newaxis] == 1) & (time >= onset), 2.0, 1.0)  # (samples, length)
    phase = rng.uniform(0.0, 2 * np.pi, size=(num_samples, 1)) + np.cumsum(2 * np.pi * speed / period, axis=1)
    amplitude = rng.uniform(0.8, 1.2, size=(num_samples, 1))
    vibration = amplitude * np.sin(phase) + rng.normal(0.0, 0.1, (num_samples, length))
    x = np.stack([temperature, pressure, vibration], axis=-1).astype(np.float32)  # (samples, length, 3)
    return x, labels.astype(np.int64)


# ---------------------------------------------------------------- text


def load_text(path=None):
    """Return the text of the UTF-8 file at `path`, or Python's documentation (~465,000 chars)."""
    if path is None:
        from pydoc_data.topics import topics

        return "\n".join(topics[key] for key in sorted(topics))
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(
            f"text file {str(path)!r} does not exist; check the path, or call load_text() for the built-in corpus"
        ) from None
    except UnicodeDecodeError as error:
        raise DataError(
            f"text file {str(path)!r} is not UTF-8 (bad byte at position {error.start}); re-save it as UTF-8"
        ) from None
    except OSError as error:
        raise DataError(
            f"cannot read text file {str(path)!r} ({error.strerror or error}); pass the path of a readable file"
        ) from None


class Vocabulary:
    """A character vocabulary: ids 0..len-1 for its characters, in the order given."""

    def __init__(self, chars):
        self.chars = list(chars)
        self.index = {char: position for position, char in enumerate(self.chars)}
        if len(self.index) != len(self.chars):
            raise ValueError("a Vocabulary's characters must be distinct; use Vocabulary.from_text")

    @classmethod
    def from_text(cls, text):
        """Return the vocabulary of the sorted distinct characters of `text`."""
        return cls(sorted(set(text)))

    def __len__(self):
        return len(self.chars)

    def __repr__(self):
        return f"Vocabulary({len(self)} characters)"

    def encode(self, text):
        """Return the ids of the characters of `text` as an int32 array."""
        try:
            return np.array([self.index[char] for char in text], dtype=np.int32)
        except KeyError as error:
            char = error.args[0]
            raise DataError(
                f"character {char!r} (U+{ord(char):04X}) at position {text.index(char)} is not "
                f"in this vocabulary of {len(self)} characters; build the vocabulary from "
                "text that contains it"
            ) from None

    def decode(self, ids):
        """Return the string whose character ids are `ids` (a list or 1-D array of ints)."""
        ids = np.asarray(ids)
        if ids.ndim > 1:
            raise ValueError(f"decode takes a 1-D sequence of ids, got shape {ids.shape}; decode one row at a time")
        ids = ids.reshape(-1)
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"decode takes integer ids, got dtype {ids.dtype}; use argmax or astype(int)")
        bad = ids[(ids < 0) | (ids >= len(self))]
        if bad.size:
            raise DataError(
                f"id {int(bad[0])} is out of range for this vocabulary of {len(self)} "
                f"characters (valid ids are 0..{len(self) - 1})"
            )
        return "".join(self.chars[i] for i in ids.tolist())


def next_char_windows(ids, sequence_length, step=1):
    """Return (x, y) int32 arrays of shape (num_windows, sequence_length); y is x shifted by one."""
    sequence_length = _positive_int(sequence_length, "sequence_length")
    step = _positive_int(step, "step")
    ids = np.asarray(ids)
    if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
        raise ValueError(
            f"ids must be a 1-D array of integer ids (from Vocabulary.encode), got "
            f"shape {ids.shape} and dtype {ids.dtype}"
        )
    if len(ids) < sequence_length + 1:
        raise DataError(
            f"corpus has {len(ids)} characters, fewer than one window of sequence_length+1 = "
            f"{sequence_length + 1}; use a longer text or a shorter sequence_length"
        )
    spans = np.lib.stride_tricks.sliding_window_view(ids, sequence_length + 1)[::step]
    x = spans[:, :-1].astype(np.int32)  # (num_windows, sequence_length)
    y = spans[:, 1:].astype(np.int32)  # (num_windows, sequence_length)
    return x, y


# ---------------------------------------------------------------- dates

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# How a date may be written; each key is what its style makes of 3 May 1979 (a Thursday).
# Names come from the tuples above, not from strftime, whose names follow the locale.
# Slashes and dots put the day first; two-digit years are read within the span of years asked for.
DATE_STYLES = {
    "3 May 1979": lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    "03/05/79": lambda d: f"{d.day:02d}/{d.month:02d}/{d.year % 100:02d}",
    "Thursday, May 3 1979": lambda d: f"{WEEKDAYS[d.weekday()]}, {MONTHS[d.month - 1]} {d.day} {d.year}",
    "May 3, 1979": lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    "3 may 79": lambda d: f"{d.day} {MONTHS[d.month - 1].lower()} {d.year % 100:02d}",
    "03.05.1979": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    "Thu 3 May 1979": lambda d: f"{WEEKDAYS[d.weekday()][:3]} {d.day} {MONTHS[d.month - 1]} {d.year}",
    "3 MAY 1979": lambda d: f"{d.day} {MONTHS[d.month - 1].upper()} {d.year}",
    "May 03 1979": lambda d: f"{MONTHS[d.month - 1]} {d.day:02d} {d.year}",
    "03-May-1979": lambda d: f"{d.day:02d}-{MONTHS[d.month - 1][:3]}-{d.year}",
}


def date_pairs(num_samples, seed=0, first_year=1950, last_year=2049, styles=None, exclude=()):
    """Return (human, iso): two lists of `num_samples` strings, such as "3 May 1979" and "1979-05-03".

    Dates are drawn uniformly from 1 January `first_year` to 31 December `last_year`, each
    written in a random one of `styles` (keys of DATE_STYLES; default all). Dates whose ISO
    string is in `exclude` are never drawn: pass the training set's to get held-out dates.
    """
    num_samples = _positive_int(num_samples, "num_samples")
    styles = list(DATE_STYLES) if styles is None else list(styles)
    unknown = [style for style in styles if style not in DATE_STYLES]
    if unknown or not styles:
        raise ValueError(
            f"unknown date style {unknown[0] if unknown else None!r}: choose among "
            f"{', '.join(repr(s) for s in DATE_STYLES)}"
        )
    for year, name in ((first_year, "first_year"), (last_year, "last_year")):
        if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
            raise ValueError(f"{name} must be a year between 1 and 9999, got {year!r}")
    if not 0 <= last_year - first_year < 100:
        raise ValueError(
            f"years {first_year}..{last_year} must span 1 to 100 years, so that a two-digit year names one of them"
        )
    first = datetime.date(first_year, 1, 1).toordinal()
    last = datetime.date(last_year, 12, 31).toordinal()
    excluded = {text for text in exclude}
    available = last - first + 1 - sum(1 for text in excluded if _iso_in_range(text, first_year, last_year))
    if available < 1:
        raise DataError(
            f"every date from {first_year} to {last_year} is excluded; exclude fewer dates or widen the years"
        )
    rng = np.random.default_rng(seed)
    human, iso = [], []
    while len(iso) < num_samples:
        ordinals = rng.integers(first, last + 1, size=num_samples)
        choices = rng.integers(len(styles), size=num_samples)
        for ordinal, choice in zip(ordinals.tolist(), choices.tolist()):
            day = datetime.date.fromordinal(ordinal)
            if len(iso) < num_samples and day.isoformat() not in excluded:
                human.append(DATE_STYLES[styles[choice]](day))
                iso.append(day.isoformat())
    return human, iso


def date_vocabularies():
    """Return (human, iso) Vocabulary objects for date_pairs: id 0 of the human one, "_", is padding."""
    year = [datetime.date(2000, 1, 1) + datetime.timedelta(days) for days in range(366)]
    written = {char for style in DATE_STYLES.values() for day in year for char in style(day)}
    return Vocabulary("_" + "".join(sorted(written))), Vocabulary("-0123456789")


def _iso_in_range(text, first_year, last_year):
    """Return True if `text` is an ISO date whose year is in first_year..last_year."""
    try:
        return first_year <= datetime.date.fromisoformat(str(text)).year <= last_year
    except ValueError:
        return False


def encode_padded(texts, vocabulary, length):
    """Return the ids of each of `texts` followed by zeros (id 0: padding), int32 of shape (len(texts), length)."""
    length = _positive_int(length, "length")
    ids = np.zeros((len(texts), length), dtype=np.int32)
    for row, text in enumerate(texts):
        if len(text) > length:
            raise DataError(
                f"text {row} ({text!r}) has {len(text)} characters, more than length={length}; pass a larger length"
            )
        ids[row, : len(text)] = vocabulary.encode(text)
    return ids


# ---------------------------------------------------------------- downloadable datasets


def _check_name(name):
    """Return `name` if it is a dataset this module can load, else raise DataError."""
    if name not in CACHED_FILES:
        raise DataError(f"unknown dataset {name!r}: choose one of {', '.join(CACHED_FILES)}")
    return name


def keras_cache_dir():
    """Return the folder where keras.datasets keeps its downloads (honours $KERAS_HOME)."""
    if "keras" in sys.modules:
        # Keras reads KERAS_HOME once, at import; after that its own value is the truth.
        try:
            from keras.src.backend.config import keras_home

            home = keras_home()
        except (ImportError, AttributeError):
            home = None
    else:
        home = None
    if home is None:
        home = os.environ.get("KERAS_HOME")
    if home is None:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    home = os.path.expanduser(home)
    # Like keras.utils.get_file: a home that is missing or read-only means /tmp/.keras.
    if not os.access(home, os.W_OK):
        home = os.path.join("/tmp", ".keras")
    return Path(home)


def is_cached(name):
    """Return True if the files of dataset `name` are already in Keras's download cache."""
    home = keras_cache_dir()
    return all((home / relative).is_file() for relative in CACHED_FILES[_check_name(name)])


def load_keras_dataset(name):
    """Return keras.datasets' (x_train, y_train), (x_test, y_test) for `name`.

    `name` is "mnist", "fashion_mnist" or "cifar10"; the arrays are exactly
    what keras.datasets.<name>.load_data() returns.

    Downloads once when online; offline and not cached, raises DatasetUnavailable fast.
    """
    cached = is_cached(name)
    import keras

    loader = getattr(keras.datasets, name).load_data
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)  # fail fast instead of hanging offline
    progress = io.StringIO()  # Keras prints "Downloading data from <url>" and a progress bar
    try:
        with contextlib.redirect_stdout(progress):
            arrays = loader()
    except Exception as error:
        message = str(error).strip()
        # Keras says "URL fetch failure on <url>: <code> -- <reason>": the reason is enough.
        reason = message.rsplit(" -- ", 1)[-1] if " -- " in message else message.split("\n")[0]
        reason = reason or type(error).__name__
        where = keras_cache_dir() / "datasets"
        if cached:
            problem = f"{name} is cached in {where} but could not be read or re-downloaded ({reason})"
        else:
            problem = f"{name} is not cached in {where} and could not be downloaded (offline? {reason})"
        raise DatasetUnavailable(f"{problem}; use the offline dataset {OFFLINE_ALTERNATIVE} instead") from None
    finally:
        socket.setdefaulttimeout(previous_timeout)
    if "Downloading" in progress.getvalue():
        print(f"downloaded {name} into {keras_cache_dir() / 'datasets'}")
    return arrays
