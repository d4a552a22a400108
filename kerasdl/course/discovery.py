"""Finding the notebooks a course command works on, and naming them: `kerasdl run`'s and `kerasdl grade`'s.

`run` takes the kit's own notebooks (folders give their *.ipynb, links followed);
`grade` takes a class, `submissions/<learner>/.../<any name>.ipynb`, where links are
listed and never followed, and each notebook belongs to the first folder below
the submissions folder.
"""

import dataclasses
import os
from pathlib import Path

from kerasdl.errors import KerasdlError


def label(path):
    """Return how reports name the notebook at `path`: relative to the working folder when inside it."""
    relative = os.path.relpath(path, Path.cwd())
    return str(path) if relative.startswith("..") else relative


def find_notebooks(paths):
    """Return the resolved notebooks named by `paths` (folders give their *.ipynb, sorted), or raise."""
    found = []
    for path in map(Path, paths):
        if not path.exists():
            raise KerasdlError(f"no such notebook or folder: {path}")
        if path.is_dir():
            found += sorted(p for p in path.glob("*.ipynb") if p.is_file())
        elif path.suffix == ".ipynb":
            found.append(path)
        else:
            raise KerasdlError(f"{path} is not a notebook (.ipynb) or a folder")
    notebooks = list(dict.fromkeys(p.resolve() for p in found))  # keep order, drop repeats
    if not notebooks:
        raise KerasdlError(f"no notebooks (*.ipynb) found in {', '.join(map(str, paths))}")
    return notebooks


@dataclasses.dataclass(frozen=True)
class Submission:
    """A notebook found for grading: its path (absolute, links not resolved) and the learner it belongs to."""

    path: Path
    learner: str


def _walk(root):
    """Yield the paths of the *.ipynb entries under folder `root`, symbolic links not followed, hidden folders skipped.

    A link (to a file or a folder) named *.ipynb, and a link to a folder, are yielded too: they are reported, never
    opened.
    """
    for folder, folders, files in os.walk(root, followlinks=False, onerror=None):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        for name in [*folders]:
            if os.path.islink(os.path.join(folder, name)):  # os.walk lists a link to a folder with the folders
                folders.remove(name)
                yield Path(folder, name)
        for name in sorted(files):
            if name.endswith(".ipynb") and not name.startswith("."):
                yield Path(folder, name)


def find_submissions(paths):
    """Return a Submission for every notebook named by `paths`: files, or every *.ipynb under a folder.

    Under a folder, a notebook belongs to the first folder below it, `submissions/<learner>/...`, however deep it
    lies (`submissions/mallory/bob/x.ipynb` is mallory's); one directly in it to the folder itself. Symbolic
    links below a folder are listed, not followed: reading reports them.
    """
    found = []
    for path in map(Path, paths):
        if not (path.exists() or path.is_symlink()):
            raise KerasdlError(f"no such notebook or folder: {path}")
        if path.is_dir():
            root = Path(os.path.abspath(path))
            for notebook in sorted(_walk(root)):
                parts = notebook.relative_to(root).parts
                inside = len(parts) > 1 or not notebook.name.endswith(".ipynb")  # a link to a learner's folder
                found.append(Submission(notebook, parts[0] if inside else root.resolve().name))
        elif path.suffix == ".ipynb":
            notebook = Path(os.path.abspath(path))
            found.append(Submission(notebook, notebook.parent.name))
        else:
            raise KerasdlError(f"{path} is not a notebook (.ipynb) or a folder")
    submissions = list({s.path: s for s in reversed(found)}.values())[::-1]  # the first of each path
    if not submissions:
        raise KerasdlError(f"no notebooks (*.ipynb) found in {', '.join(map(str, paths))}")
    return submissions
