"""Record a notebook's headline figures so batch runs can tabulate them."""

import json
import numbers

MIME = "application/vnd.kerasdl.metrics+json"


def _plain(name, value):
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if hasattr(value, "item") and getattr(value, "size", 2) == 1:  # NumPy or framework scalar
        return _plain(name, value.item())
    raise ValueError(f"record({name}=...) got a {type(value).__name__}; pass a number, string or bool")


def record(**metrics):
    """Show and store `metrics` (numbers or short strings) in the cell's output; return them."""
    values = {name: _plain(name, value) for name, value in metrics.items()}
    text = "recorded: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display({MIME: values, "text/plain": text}, raw=True)
    else:
        print(text)
    return values


def read(notebook):
    """Return every metric recorded in an executed notebook (an nbformat node), later values winning."""
    found = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if MIME in data:
                value = data[MIME]
                found.update(json.loads(value) if isinstance(value, str) else value)
    return found
