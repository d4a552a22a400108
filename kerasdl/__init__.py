"""kerasdl: the helpers shared by the course notebooks.

Importing this package imports no deep-learning framework, so it can come
first in a notebook and explain a wrong backend before keras is loaded.
Import the modules you need: ``from kerasdl import backend, data, autodiff``.
"""

__version__ = "0.1.0"

from kerasdl.results import record  # noqa: E402  (light: no framework import)

__all__ = ["record", "__version__"]
