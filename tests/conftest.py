import os

import pytest
from hypothesis import settings

# CI runs the same examples every time (a red CI blocks a landing; new examples are
# explored on developers' machines, where a failure is a finding, not a blocked stop).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_addoption(parser):
    parser.addoption("--regen-golden", action="store_true", default=False,
                     help="Rewrite the expected frames in tests/golden/ from the current renderer.")


@pytest.fixture
def regen_golden(request) -> bool:
    return bool(request.config.getoption("--regen-golden"))
