import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BACKEND = os.environ.get("KERAS_BACKEND", "jax")
os.environ.setdefault("KERASDL_PROFILE", "quick")


def pytest_report_header(config):
    return f"kerasdl: backend {BACKEND}, profile {os.environ['KERASDL_PROFILE']}, python {sys.executable}"


@pytest.fixture
def backend_name():
    return BACKEND
