"""The course tooling: what instructors and CI run, never what a notebook imports.

runner     `kerasdl run`: notebooks in batch with papermill, one kernel per backend
grader     `kerasdl grade`: exercise notebooks scored item by item
exercises  `kerasdl exercises build`: exercises/ generated from solutions/
kernels    one Jupyter kernel per backend
doctor     `kerasdl doctor`: the environment, with a fix for each problem
cli        the `kerasdl` command line
"""
