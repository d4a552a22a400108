"""The course tooling: what instructors and CI run, never what a notebook imports.

runner     `kerasdl run`: notebooks in batch with papermill, one kernel per backend
grader     `kerasdl grade`: exercise notebooks scored item by item against the instructor's checks
answer_key the instructor's key: solutions/ by exercise id
guard      the cells the grader adds to a submission: snapshots, fresh checks, tagged verdicts
probed     exercises graded by probes: seeds per run, the sandbox's copy of the kit, judges outside
sandbox    one submission's run in a bubblewrap sandbox (no network, its own folder only)
gradebook  the grade report, the CSV gradebook and the items as JSON
exercises  `kerasdl exercises build`: exercises/ generated from solutions/
kernels    one Jupyter kernel per backend
doctor     `kerasdl doctor`: the environment, with a fix for each problem
cli        the `kerasdl` command line
"""
