"""Probe data on disk: nested plain data in one file that a grader can read without trusting it.

A probe (see kerasdl.probes) returns plain data. When grading, that data leaves the
learner's sandbox as one file and is read in the grader's process, so reading it must be
safe whatever is inside. A file is a zip archive of

    manifest.json     {"format": "kerasdl-probe-data", "version": 1, "data": <data>}
    0.npy, 1.npy, …   one NumPy array each, saved with allow_pickle=False

where <data> is JSON — dicts with str keys, lists, str, int, float (NaN and infinities
included), bool, None — in which {"$array": "3"} stands for the array in 3.npy. Tuples are
written as lists; arrays hold bools, integers or floats.

`read` and `from_bytes` never unpickle and never allocate what a header declares before
checking it. They raise WireError, one line, for a file over MAX_FILE_BYTES, one that is not
a zip or is truncated, members other than these, more than MAX_ARRAYS arrays, an array over
MAX_ARRAY_BYTES (as its header declares) or of an object, structured, string or complex dtype,
a manifest over MAX_MANIFEST_BYTES or nested deeper than MAX_DEPTH, a string or key over
MAX_STRING characters, and an array that is not referenced exactly once.
"""

import io
import json
import math
import re
import zipfile
import zlib

import numpy as np

from kerasdl.errors import KerasdlError

FORMAT, VERSION = "kerasdl-probe-data", 1
MAX_FILE_BYTES = 64 * 2**20
MAX_MANIFEST_BYTES = 2**20
MAX_ARRAYS = 1024
MAX_ARRAY_BYTES = 16 * 2**20
MAX_DEPTH = 32  # levels of dicts and lists
MAX_STRING = 10_000  # characters in a str or a key
DTYPE_KINDS = "biuf"  # bool, signed and unsigned integers, floats
MANIFEST, ARRAY = "manifest.json", "$array"
_MEMBER = re.compile(r"(0|[1-9][0-9]{0,5})\.npy")


class WireError(KerasdlError, ValueError):
    """A probe data file, or data to write to one, is not what the format holds."""


# ---------------------------------------------------------------- writing


def to_bytes(data):
    """Return `data` (nested dicts, lists, tuples, str, int, float, bool, None, NumPy arrays) as a probe data file."""
    arrays = []
    text = json.dumps({"format": FORMAT, "version": VERSION, "data": _encode(data, arrays, 0, "data")})
    if len(text) > MAX_MANIFEST_BYTES:
        raise WireError(f"the data's plain part is {len(text)} bytes of JSON, over the cap of {MAX_MANIFEST_BYTES}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(MANIFEST, text)
        for number, array in enumerate(arrays):
            member = io.BytesIO()
            np.save(member, array, allow_pickle=False)
            archive.writestr(f"{number}.npy", member.getvalue())
    blob = buffer.getvalue()
    if len(blob) > MAX_FILE_BYTES:
        raise WireError(f"the data comes to {len(blob)} bytes, over the cap of {MAX_FILE_BYTES}")
    return blob


def write(path, data):
    """Write `data` to `path` as a probe data file (see to_bytes); return the path."""
    blob = to_bytes(data)
    with open(path, "wb") as file:
        file.write(blob)
    return path


def _encode(value, arrays, depth, where):
    if depth > MAX_DEPTH:
        raise WireError(f"{where} is nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, str):
        return _string(value, where)
    if isinstance(value, np.ndarray):
        _check_dtype(value.dtype, where)
        _check_bytes(value.nbytes, where)
        if len(arrays) >= MAX_ARRAYS:
            raise WireError(f"{where}: more than {MAX_ARRAYS} arrays")
        arrays.append(value)
        return {ARRAY: str(len(arrays) - 1)}
    if isinstance(value, (list, tuple)):
        return [_encode(item, arrays, depth + 1, f"{where}[{n}]") for n, item in enumerate(value)]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value) or ARRAY in value:
            raise WireError(f"{where}: dict keys must be str other than {ARRAY!r}")
        return {_string(k, where): _encode(v, arrays, depth + 1, f"{where}[{k!r}]") for k, v in value.items()}
    raise WireError(f"{where} is {type(value).__name__}: only dicts, lists, str, numbers, bool, None and arrays")


# ---------------------------------------------------------------- reading


def read(path):
    """Return the data in the probe data file at `path`; raise WireError if it is missing or malformed."""
    try:
        with open(path, "rb") as file:
            blob = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise WireError(f"cannot read the probe data file {path}: {error.strerror or error}") from None
    return from_bytes(blob)


def from_bytes(blob):
    """Return the data in a probe data file's bytes, arrays as NumPy arrays; raise WireError if it is malformed."""
    if len(blob) > MAX_FILE_BYTES:
        raise WireError(f"the probe data file is over the cap of {MAX_FILE_BYTES} bytes")
    try:
        archive = zipfile.ZipFile(io.BytesIO(blob))
        members = {info.filename: info for info in archive.infolist()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise WireError("the probe data file is not a zip archive, or it is truncated") from None
    if MANIFEST not in members or len(members) != len(archive.infolist()):
        raise WireError(f"the probe data file has no {MANIFEST}, or a member twice")
    strays = [name for name in members if name != MANIFEST and not _MEMBER.fullmatch(name)]
    if strays:
        raise WireError(f"the probe data file holds {strays[0][:60]!r}: only {MANIFEST} and numbered .npy arrays")
    if len(members) - 1 > MAX_ARRAYS:
        raise WireError(f"the probe data file holds {len(members) - 1} arrays, over the cap of {MAX_ARRAYS}")
    try:
        manifest = json.loads(_content(archive, members[MANIFEST], MAX_MANIFEST_BYTES).decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise WireError(f"the probe data file's {MANIFEST} is not JSON, or nested too deep") from None
    if not isinstance(manifest, dict) or set(manifest) != {"format", "version", "data"}:
        raise WireError(f"the probe data file's {MANIFEST} is not a manifest of this format")
    if manifest["format"] != FORMAT or manifest["version"] != VERSION:
        raise WireError(f"the probe data file is not {FORMAT} version {VERSION}")
    used = set()
    data = _decode(manifest["data"], lambda name: _array(archive, members, name, used), 0, "data")
    unused = sorted(set(members) - used - {MANIFEST})
    if unused:
        raise WireError(f"the probe data file holds {unused[0]}, which the manifest does not use")
    return data


def _decode(node, load, depth, where):
    if depth > MAX_DEPTH:
        raise WireError(f"{where} is nested deeper than {MAX_DEPTH} levels")
    if node is None or isinstance(node, (bool, int, float)):
        return node
    if isinstance(node, str):
        return _string(node, where)
    if isinstance(node, list):
        return [_decode(item, load, depth + 1, f"{where}[{n}]") for n, item in enumerate(node)]
    if ARRAY in node:
        if set(node) != {ARRAY} or not isinstance(node[ARRAY], str):
            raise WireError(f"{where}: an array reference is {{{ARRAY!r}: '<number>'}} and nothing else")
        return load(f"{node[ARRAY][:10]}.npy")
    return {_string(k, where): _decode(v, load, depth + 1, f"{where}[{k[:40]!r}]") for k, v in node.items()}


def _array(archive, members, name, used):
    if name not in members or name == MANIFEST:
        raise WireError(f"the manifest refers to {name}, which the probe data file does not hold")
    if name in used:
        raise WireError(f"the manifest refers to {name} twice")
    used.add(name)
    buffer = io.BytesIO(_content(archive, members[name], MAX_ARRAY_BYTES + 4096))
    try:
        version = np.lib.format.read_magic(buffer)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"version {version}")
        header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran_order, dtype = header(buffer)
    except (ValueError, TypeError, SyntaxError, EOFError, OverflowError) as error:
        raise WireError(f"{name} is not a NumPy .npy array ({str(error).splitlines()[0][:80]})") from None
    _check_dtype(dtype, name)
    nbytes = math.prod(shape) * dtype.itemsize
    _check_bytes(nbytes, name)
    payload = buffer.read()
    if len(payload) != nbytes:
        raise WireError(f"{name} declares {nbytes} bytes of data and holds {len(payload)}")
    array = np.ndarray(shape, dtype, buffer=payload, order="F" if fortran_order else "C")
    return array.astype(dtype.newbyteorder("="))  # a writable copy, in this machine's byte order


def _content(archive, info, limit):
    """Return a member's bytes, reading at most `limit` (whatever its header declares)."""
    if info.file_size > limit or info.flag_bits & 0x1:
        raise WireError(f"{info.filename[:60]} is over the cap of {limit} bytes, or encrypted")
    try:
        with archive.open(info) as member:
            content = member.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError):
        raise WireError(f"{info.filename[:60]} cannot be read: the probe data file is truncated or corrupt") from None
    if len(content) > limit:
        raise WireError(f"{info.filename[:60]} is over the cap of {limit} bytes")
    return content


# ---------------------------------------------------------------- what both sides allow


def _string(text, where):
    if len(text) > MAX_STRING:
        raise WireError(f"{where}: a string of {len(text)} characters, over the cap of {MAX_STRING}")
    return text


def _check_dtype(dtype, where):
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in DTYPE_KINDS:
        raise WireError(f"{where} has dtype {str(dtype)[:40]}: only bool, integer and float arrays")


def _check_bytes(nbytes, where):
    if nbytes > MAX_ARRAY_BYTES:
        raise WireError(f"{where} is {nbytes} bytes, over the cap of {MAX_ARRAY_BYTES} for one array")
