"""The learner's path in JupyterLab: pick a backend, run a chapter, solve an exercise, see a plot."""

import re

from .lab import Notebook

CHAPTER_00 = "chapters/00_backends_and_devices.ipynb"
CHAPTER_WITH_EARLY_PLOT = "chapters/02_rnn_and_bptt.ipynb"
EXERCISE_03 = "exercises/03_char_rnn.ipynb"
STUB = 'raise NotImplementedError("write your solution here")'


def code_cell(*needles):
    """Return a predicate for the first code cell whose source holds every one of `needles`."""
    return lambda source, kind: kind == "code" and all(needle in source for needle in needles)


def test_chapter_00_runs_on_the_backend_picked_in_the_kernel_picker(lab, page, shot, shots):
    notebook = Notebook(lab, page, CHAPTER_00)
    problems = notebook.kernel_problems()
    assert not problems, "\n".join(problems)
    setup = notebook.index(code_cell("backend.check()"))
    backend_line = notebook.index(code_cell("keras.config.backend()", "print("))

    notebook.change_kernel("Keras 3 · PyTorch (kerasdl)", screenshot=shots / "01-kernel-picker.png")
    notebook.restart_and_clear()
    notebook.run(0, backend_line)
    assert re.search(r"^keras 3\.\S+ on the torch backend$", notebook.output(backend_line), re.M)
    assert "set by the Jupyter kernel 'kerasdl-torch'" in notebook.output(setup)
    notebook.show(backend_line)
    shot(page, "02-chapter00-torch")

    notebook.change_kernel("Keras 3 · JAX (kerasdl)")
    notebook.restart_and_clear()
    notebook.run(0, backend_line)
    assert re.search(r"^keras 3\.\S+ on the jax backend$", notebook.output(backend_line), re.M)
    notebook.show(backend_line)
    shot(page, "03-chapter00-jax-after-restart")

    notebook.change_kernel("Python 3 (ipykernel)")
    notebook.restart_and_clear()
    notebook.run(0, setup)
    note = notebook.output(setup)
    assert "This kernel is not one of the kit's: Keras uses the jax backend" in note
    assert "Kernel → Change Kernel… → Keras 3 · JAX / PyTorch / TensorFlow (kerasdl)" in note
    notebook.show(setup)
    shot(page, "04-chapter00-plain-python-kernel")
    assert page.get_by_text("official Jupyter news").count() == 0, "the news prompt covers the page: run `make env`"


def answer(stub_source, bodies):
    """Return the stub cell's source with each `raise NotImplementedError(...)` replaced by a body."""
    lines, bodies = [], list(bodies)
    for line in stub_source.splitlines():
        if line.strip() == STUB:
            indent = line[: len(line) - len(line.lstrip())]
            lines.extend(indent + body_line for body_line in bodies.pop(0).splitlines())
        else:
            lines.append(line)
    assert not bodies, "the exercise has fewer stubs than the test fills in"
    return "\n".join(lines)


RIGHT = [
    "chars = sorted(set(text))\nreturn chars, {char: index for index, char in enumerate(chars)}",
    'return np.array([char_to_id[char] for char in text], dtype="int32")',
    'return "".join(chars[index] for index in ids)',
]
WRONG = RIGHT[:2] + ["return [chars[index] for index in ids]  # forgot to join the characters"]


def test_exercise_03_check_cell_turns_green_then_red(lab, page, shot):
    notebook = Notebook(lab, page, EXERCISE_03)
    stub = notebook.index(code_cell(STUB))
    check = notebook.index(code_cell("# NBVAL_CHECK_OUTPUT"), start=stub)
    source = "".join(notebook.cells[stub]["source"])
    notebook.restart_and_clear()  # the check cells ship with their expected output: read only fresh ones

    notebook.type_into(stub, answer(source, RIGHT))
    notebook.run(0, check)
    verdicts = notebook.output(check).splitlines()
    assert len(verdicts) == 3 and all(line.startswith("✔ ") for line in verdicts), verdicts
    notebook.show(check)
    shot(page, "05-exercise03-three-ticks")

    notebook.type_into(stub, answer(source, WRONG))
    notebook.run(stub, check)
    verdicts = notebook.output(check).splitlines()
    assert verdicts[:2] == [line.replace("✘", "✔") for line in verdicts[:2]] and verdicts[0].startswith("✔ ")
    assert verdicts[2].startswith("✘ decode(encode(text)) gives the text back — "), verdicts
    assert "joined into one string" in verdicts[2], verdicts
    notebook.show(check)
    shot(page, "06-exercise03-cross-with-hint")


def test_a_chapters_first_plot_renders_as_an_image(lab, page, shot):
    notebook = Notebook(lab, page, CHAPTER_WITH_EARLY_PLOT)
    plot = notebook.index(lambda source, kind: kind == "code" and re.search(r"\b(plt|plots)\.\w+\(", source))
    notebook.restart_and_clear()
    notebook.run(0, plot)
    image = notebook.cell(plot).locator(".jp-OutputArea-output img")
    assert image.count() >= 1, f"cell {plot} shows no image: {notebook.output(plot)[:300]!r}"
    assert image.first.get_attribute("src").startswith("data:image/png")
    width, height = image.first.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert width >= 300 and height >= 100, (width, height)
    image.first.evaluate("img => img.scrollIntoView({block: 'center'})")
    shot(page, "07-chapter02-first-plot")
