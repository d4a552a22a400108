"""The grades `kerasdl grade` gives: an item's status and its symbol, an Item, a Grade (one notebook, one backend).

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
        return sum(item.scored and item.status == PASSED for item in self.items)

    @property
    def total(self):
        return sum(item.scored for item in self.items)

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
        data.update(score=self.score, total=self.total, full_marks=self.full_marks)
        return data
