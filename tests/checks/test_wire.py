"""kerasdl.probes.wire: probe data round-trips, and a file a learner could forge is refused in one line, never
unpickled, never allocated from what its headers declare."""

import io
import json
import pickle
import zipfile

import numpy as np
import pytest

from kerasdl.errors import KerasdlError
from kerasdl.probes import wire

UNPICKLED = []


def _mark():
    UNPICKLED.append("ran")
    return 0


class Payload:
    """An object that records it was unpickled: reading a file that holds it must not run it."""

    def __reduce__(self):
        return (_mark, ())


def npy(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def archive(members):
    """Return the bytes of a zip holding `members` ({name: bytes or str})."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, content in members.items():
            zipped.writestr(name, content)
    return buffer.getvalue()


def manifest(data, **fields):
    return json.dumps({"format": wire.FORMAT, "version": wire.VERSION, "data": data, **fields})


def refused(blob, words):
    """Assert reading `blob` raises one WireError line containing `words`."""
    with pytest.raises(wire.WireError) as raised:
        wire.from_bytes(blob)
    message = str(raised.value)
    assert words in message and "\n" not in message and len(message) < 200, message
    assert isinstance(raised.value, KerasdlError)


# ---------------------------------------------------------------- round trips


def test_nested_plain_data_and_arrays_round_trip(tmp_path):
    data = {
        "forward": {"values": [np.arange(12.0).reshape(3, 4), {"got": "a list holding a str"}]},
        "flags": [True, False, None],
        "numbers": (1, -(2**62), 0.5, float("nan"), float("inf")),
        "arrays": [
            np.array(True),
            np.zeros((0, 3), np.int8),
            np.arange(6, dtype=np.uint16),
            np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)),
            np.arange(4, dtype=">f8"),  # big-endian: read back in this machine's order
        ],
        "text": "✘ d — ünïcode",
        "": {},
    }
    back = wire.read(wire.write(tmp_path / "probe.kerasdl", data))
    assert back["forward"]["values"][1] == {"got": "a list holding a str"}
    np.testing.assert_array_equal(back["forward"]["values"][0], data["forward"]["values"][0])
    assert back["flags"] == [True, False, None] and back["text"] == data["text"] and back[""] == {}
    assert back["numbers"][:3] == [1, -(2**62), 0.5] and np.isnan(back["numbers"][3]) and back["numbers"][4] == np.inf
    for sent, got in zip(data["arrays"], back["arrays"]):
        assert got.dtype == sent.dtype.newbyteorder("=") and got.shape == sent.shape and got.flags.writeable
        np.testing.assert_array_equal(got, sent)


def test_numpy_scalars_are_written_as_plain_numbers():
    assert wire.from_bytes(wire.to_bytes([np.float64(0.25), np.int32(3), np.bool_(True)])) == [0.25, 3, True]


@pytest.mark.parametrize(
    "value, words",
    [
        (np.array([Payload()], dtype=object), "only bool, integer and float arrays"),
        (np.array(["a"]), "only bool, integer and float arrays"),
        (np.zeros(2, complex), "only bool, integer and float arrays"),
        ({1: "a"}, "dict keys must be str"),
        ({"$array": "0"}, "dict keys must be str"),
        (Payload(), "only dicts, lists, str, numbers, bool, None and arrays"),
        (b"bytes", "only dicts, lists, str, numbers, bool, None and arrays"),
        ("x" * (wire.MAX_STRING + 1), "over the cap"),
    ],
)
def test_what_the_format_cannot_hold_is_refused_when_written(value, words):
    with pytest.raises(wire.WireError, match=words.replace("$", r"\$")):
        wire.to_bytes({"value": value})


def test_data_nested_too_deep_is_refused_when_written():
    deep = []
    for _ in range(wire.MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(wire.WireError, match="nested deeper"):
        wire.to_bytes(deep)


# ---------------------------------------------------------------- what reading refuses


def test_a_pickle_inside_is_refused_and_never_run():
    blob = archive({"manifest.json": manifest({"$array": "0"}), "0.npy": npy(np.array([Payload()]), True)})
    refused(blob, "dtype object")
    refused(archive({"manifest.json": manifest(None), "0.pkl": pickle.dumps(Payload())}), "'0.pkl'")
    refused(pickle.dumps({"data": Payload()}), "not a zip archive")
    refused(archive({"manifest.json": pickle.dumps(Payload())}), "not JSON")
    assert UNPICKLED == []


def test_an_object_or_structured_array_is_refused():
    refused(archive({"manifest.json": manifest({"$array": "0"}), "0.npy": npy(np.array(["text"]))}), "dtype <U4")
    structured = np.zeros(2, dtype=[("a", "f8"), ("b", "i4")])
    refused(archive({"manifest.json": manifest({"$array": "0"}), "0.npy": npy(structured)}), "only bool, integer")


def test_an_over_deep_nest_is_refused():
    deep = None
    for _ in range(wire.MAX_DEPTH + 2):
        deep = {"a": [deep]}
    refused(archive({"manifest.json": manifest(deep)}), "nested deeper")
    refused(archive({"manifest.json": '{"data": ' + "[" * 100_000 + "]" * 100_000 + "}"}), "not JSON, or nested")


def test_a_huge_declared_shape_is_refused_before_it_is_allocated():
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**9, 10**9)}
    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, header)
    blob = archive({"manifest.json": manifest({"$array": "0"}), "0.npy": member.getvalue() + b"\0" * 64})
    refused(blob, "over the cap")


def test_an_array_whose_data_is_shorter_than_its_header_says_is_refused():
    member = npy(np.arange(10.0))[:-8]
    refused(archive({"manifest.json": manifest({"$array": "0"}), "0.npy": member}), "declares 80 bytes")


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_a_truncated_zip_is_refused(cut):
    blob = wire.to_bytes({"values": [np.arange(100.0), np.ones((4, 4))]})
    with pytest.raises(wire.WireError):
        wire.from_bytes(blob[: int(len(blob) * cut)])


@pytest.mark.parametrize("blob", [b"", b"not a zip at all", b"PK\x03\x04" + b"\0" * 40, npy(np.ones(3))])
def test_a_file_that_is_not_a_zip_is_refused(blob):
    refused(blob, "not a zip archive")


def test_a_missing_or_unreadable_file_is_one_line(tmp_path):
    with pytest.raises(wire.WireError, match="cannot read the probe data file"):
        wire.read(tmp_path / "nothing-here")


def test_an_oversized_file_is_refused_unread(tmp_path, monkeypatch):
    path = wire.write(tmp_path / "probe.kerasdl", {"values": np.ones(1000)})
    monkeypatch.setattr(wire, "MAX_FILE_BYTES", 1000)
    with pytest.raises(wire.WireError, match="over the cap of 1000 bytes"):
        wire.read(path)


def test_too_many_arrays_an_oversized_member_and_a_long_string_are_refused(monkeypatch):
    blob = wire.to_bytes([np.ones(3)] * 5)
    monkeypatch.setattr(wire, "MAX_ARRAYS", 4)
    refused(blob, "5 arrays, over the cap of 4")
    monkeypatch.setattr(wire, "MAX_ARRAYS", 1024)
    monkeypatch.setattr(wire, "MAX_ARRAY_BYTES", 16)
    refused(blob, "over the cap")
    refused(archive({"manifest.json": manifest("x" * (wire.MAX_STRING + 1))}), "over the cap of 10000")


@pytest.mark.parametrize(
    "members, words",
    [
        ({"0.npy": npy(np.ones(2))}, "no manifest.json"),
        ({"manifest.json": manifest({"$array": "0"})}, "does not hold"),
        ({"manifest.json": manifest([{"$array": "0"}, {"$array": "0"}]), "0.npy": npy(np.ones(2))}, "twice"),
        ({"manifest.json": manifest(None), "0.npy": npy(np.ones(2))}, "does not use"),
        ({"manifest.json": manifest({"$array": "0", "x": 1}), "0.npy": npy(np.ones(2))}, "nothing else"),
        ({"manifest.json": manifest({"$array": 0}), "0.npy": npy(np.ones(2))}, "nothing else"),
        ({"manifest.json": manifest(None, extra=1)}, "not a manifest"),
        ({"manifest.json": json.dumps({"format": "other", "version": 1, "data": None})}, "not kerasdl-probe-data"),
        ({"manifest.json": "[1, 2]"}, "not a manifest"),
        ({"manifest.json": manifest(None), "../0.npy": npy(np.ones(2))}, "'../0.npy'"),
        ({"manifest.json": b"\xff\xfe"}, "not JSON"),
    ],
)
def test_a_malformed_archive_is_refused(members, words):
    refused(archive(members), words)
