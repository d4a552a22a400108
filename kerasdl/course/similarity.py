"""Similarity: the code cells of a class compared with each other and with the kit's reference code, for a person.

`kerasdl grade --similarity FILE` writes a report, never a grade. It uses
copydetect (the winnowing fingerprints of MOSS, Schleimer et al. 2003, in a small,
maintained PyPI package that works offline on text it is given): each notebook's
code cells, its check cells left out, become one document whose names copydetect
replaces by a placeholder, so renaming variables hides nothing. Fingerprints of the
template (the exercise as generated, what every learner starts from) are boilerplate
and never count. Two sections per exercise:

- notebooks whose own code (past the template) is mostly the kit's reference code
  (the solution), with the share and the cells;
- pairs of learners whose own code matches each other's past a threshold, with the
  cells that match on each side; here the reference code is boilerplate too, so two
  learners who both copied the solution are listed once each above, not as a pair.

A share is copydetect's: the tokens of a notebook's own code that the other side
also has, over all of its own tokens. Similar code is a reason to look, not proof.
"""

import io
from pathlib import Path

from kerasdl.course import answer_key, discovery
from kerasdl.course.exercises import generate, is_check_cell
from kerasdl.course.text import shown
from kerasdl.errors import KerasdlError

THRESHOLD = 0.6  # the share of a notebook's own code that matches, from which a pair is listed
NOISE = 25  # tokens: matches shorter than this never count (copydetect's noise threshold)
GUARANTEE = 30  # tokens: matches this long are always found (copydetect's guarantee threshold)
CELL_SHARE = 0.5  # a cell is named as matching when this share of its own fingerprints is on the other side
HEADER = "kerasdl similarity report"


def require():
    """Raise one line unless copydetect can be imported."""
    try:
        import copydetect  # noqa: F401
    except ImportError:
        raise KerasdlError("--similarity needs copydetect: pip install 'kerasdl[grade]' (or copydetect)") from None


def code_cells(notebook):
    """Return [(code cell number, source)] of a notebook's code cells that are not check cells."""
    cells = [c for c in notebook.cells if c.cell_type == "code"]
    return [(n, c.source) for n, c in enumerate(cells, 1) if not is_check_cell(c) and c.source.strip()]


class _Document:
    """A notebook's code cells as one fingerprinted document, and each cell's own fingerprints."""

    def __init__(self, name, cells, boilerplate):
        self.name, boilerplate = name, list(boilerplate)
        self.fingerprint = _fingerprint("".join(source + "\n\n" for _, source in cells), boilerplate)
        self.cells = [(number, _fingerprint(source, boilerplate).hashes) for number, source in cells]

    def cells_like(self, other):
        """Return the numbers of this document's code cells whose own fingerprints are mostly in `other`."""
        found = other.fingerprint.hashes
        return [number for number, hashes in self.cells if hashes and len(hashes & found) >= CELL_SHARE * len(hashes)]


def _fingerprint(text, boilerplate=()):
    from copydetect import CodeFingerprint

    return CodeFingerprint(
        "notebook.py", NOISE, GUARANTEE - NOISE + 1, list(boilerplate), language="python", fp=io.StringIO(text)
    )


def _hashes(cells):
    return _fingerprint("".join(source + "\n\n" for _, source in cells)).hashes


def _compare(first, second):
    from copydetect import compare_files

    _, (share_first, share_second), _ = compare_files(first.fingerprint, second.fingerprint)
    return float(share_first), float(share_second)


def _cells(numbers):
    return ", ".join(map(str, numbers)) or "-"


def report(paths, solutions="solutions", threshold=THRESHOLD):
    """Return (the report's text, [(exercise id, learner, learner)] of the pairs listed) for the class in `paths`."""
    from kerasdl.course import grader

    exercises, _ = answer_key.load(solutions)
    by_exercise = {}
    for found in discovery.find_submissions(paths):
        notebook, _ = grader._read(found.path)
        key = answer_key.exercise_id(notebook) if notebook is not None else None
        if key in exercises and not exercises[key].problem:
            by_exercise.setdefault(key, []).append((found.learner, discovery.label(found.path), notebook))
    lines = [
        HEADER,
        f"threshold {threshold:.0%} of a notebook's own code (past the template); a reason to look, not proof",
        "",
    ]
    pairs = []
    for key, notebooks in sorted(by_exercise.items()):
        import nbformat

        solution = nbformat.read(exercises[key].path, as_version=4)
        template = _hashes(code_cells(generate(solution, str(exercises[key].path))))
        reference_cells = code_cells(solution)
        reference = _Document("the reference solution", reference_cells, template)
        both = list(template | _hashes(reference_cells))
        own = [(learner, name, _Document(name, code_cells(nb), list(template))) for learner, name, nb in notebooks]
        apart = [(learner, name, _Document(name, code_cells(nb), both)) for learner, name, nb in notebooks]
        lines.append(f"exercise {key}: {len(notebooks)} notebooks")
        like_reference = []
        for learner, name, document in own:
            if document.fingerprint.token_coverage == 0:
                continue
            share, _ = _compare(document, reference)
            if share >= threshold:
                like_reference.append(
                    f"  {share:4.0%}  {shown(name)} (cells {_cells(document.cells_like(reference))}) "
                    f"matches the reference solution (cells {_cells(reference.cells_like(document))})"
                )
        lines.append(f" notebooks whose own code is mostly the kit's reference solution: {len(like_reference)}")
        lines += like_reference
        listed = []
        for i, (learner, name, first) in enumerate(apart):
            for other_learner, other_name, second in apart[i + 1 :]:
                if learner == other_learner or not (
                    first.fingerprint.token_coverage and second.fingerprint.token_coverage
                ):
                    continue
                share_first, share_second = _compare(first, second)
                if max(share_first, share_second) >= threshold:
                    listed.append(
                        (
                            max(share_first, share_second),
                            f"  {share_first:4.0%} / {share_second:4.0%}  {shown(name)} (cells "
                            f"{_cells(first.cells_like(second))}) and {shown(other_name)} (cells "
                            f"{_cells(second.cells_like(first))})",
                        )
                    )
                    pairs.append((key, learner, other_learner))
        lines.append(f" pairs of learners whose own code matches past the reference and template: {len(listed)}")
        lines += [line for _, line in sorted(listed, reverse=True)] + [""]
    return "\n".join(lines) + "\n", pairs


def is_report(path):
    """Return True if the file at `path` is a similarity report kerasdl wrote."""
    try:
        with open(path, encoding="utf-8") as file:
            return file.readline().startswith(HEADER)
    except (OSError, UnicodeDecodeError):
        return False


def write(path, text):
    """Write the report to `path`."""
    Path(path).write_text(text, encoding="utf-8")
