"""The grades `kerasdl grade` gives: an item's status and its symbol, an Item, a Grade (one notebook, one backend).

Each item is worth `points` (1 unless the solution's metadata says otherwise); a
written answer's points are the instructor's to give (`awarded`).

A leaf of the course wing: the grader (grader) makes these, the reports (gradebook)
read them, and neither imports the other for them.
"""

import dataclasses

from kerasdl import checks

PASSED, FAILED, RECORDED = "passed", "failed", "recorded"
NOT_ATTEMPTED, TAMPERED, ERROR = "not attempted", "tampered", "error"
SYMBOLS = {
    PASSED: checks.PASSED,
    FAILED: checks.FAILED,
    RECORDED: checks.RECORDED,
    NOT_ATTEMPTED: "–",
    TAMPERED: "T",
    ERROR: "!",
}


@dataclasses.dataclass
class Item:
    """One item of an exercise graded in one notebook; `check` numbers the exercise's check cells from 1."""

    name: str
    check: int
    status: str = ERROR
    detail: str = ""
    scored: bool = True  # False for a written answer, recorded for the instructor
    answer: str | None = None
    model_answer: str | None = None
    points: float = 1  # its weight, from the solution's metadata
    awarded: float | None = None  # a written answer's points, as the instructor scored it in the review file
    comment: str = ""  # the instructor's comment on a written answer, from the review file
    reported: bool = False  # judged on values the learner's own cells computed, not on inputs the grader chose


@dataclasses.dataclass
class Grade:
    """The items of one notebook graded on one backend."""

    notebook: str
    backend: str
    profile: str
    learner: str = ""
    exercise: str | None = None
    items: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    reason: str | None = None  # why the run stopped early, if it did
    tampered: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)
    output: str = ""
    peak_memory: int = 0  # bytes, resident, of the notebook's processes together
    cpu_seconds: float = 0.0
    sandboxed: bool = True

    @property
    def score(self):
        """The points of the scored items that passed."""
        return sum(item.points for item in self.items if item.scored and item.status == PASSED)

    @property
    def total(self):
        """The points of the scored items (written answers are scored by the instructor, apart)."""
        return sum(item.points for item in self.items if item.scored)

    @property
    def written(self):
        """The points the instructor gave the written answers so far, or None when none is scored yet."""
        given = [item.awarded for item in self.items if not item.scored and item.awarded is not None]
        return sum(given) if given else None

    @property
    def written_total(self):
        """The points the written answers are worth."""
        return sum(item.points for item in self.items if not item.scored)

    @property
    def unreviewed(self):
        """The number of written answers the instructor has not scored yet."""
        return sum(not item.scored and item.awarded is None for item in self.items)

    @property
    def full_marks(self):
        """Every scored item passed, every written answer recorded, and nothing tampered with."""
        return (
            self.total > 0
            and self.score == self.total
            and not self.tampered
            and all(item.status == RECORDED for item in self.items if not item.scored)
        )

    def as_dict(self):
        """Return the grade as plain JSON-ready data."""
        data = dataclasses.asdict(self)
        data.update(
            score=self.score,
            total=self.total,
            written=self.written,
            written_total=self.written_total,
            full_marks=self.full_marks,
        )
        return data
