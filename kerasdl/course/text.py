"""One-line text for the course commands: escaped names, first lines of errors, progress lines, plain tables.

`kerasdl run` and `kerasdl grade` print the same kinds of lines; they are made here once.
"""


def shown(text):
    """Return `text` with control characters escaped (\\n, \\x1b, \\u2028): one line, nothing a terminal obeys."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() or char == " " else char.encode("unicode_escape").decode("ascii") for char in text
    )


def first_line(text, limit=None, default=""):
    """Return the first line of `text` (an exception too), stripped, cut to `limit` characters; `default` if none."""
    line = (str(text).strip().splitlines() or [default])[0]
    return line if limit is None else line[:limit]


def error_line(error, limit=160):
    """Return `TypeName: the first line of its message` for an exception (just the name when it has none)."""
    return f"{type(error).__name__}: {first_line(error, limit)}".rstrip(": ")


def progress(done, total, backend, label, width, text):
    """Return a progress line: `[3/10] jax        submissions/ada/x.ipynb  text`."""
    return f"[{done}/{total}] {backend:<10} {label:<{width}}  {text}"


def table(header, rows):
    """Return the lines of a plain-text table, columns padded to their widest cell, trailing spaces cut."""
    widths = [max(len(row[c]) for row in [header, *rows]) for c in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows]]
