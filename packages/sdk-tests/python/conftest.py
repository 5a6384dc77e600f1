"""Fixtures of the Python SDK suite. The SDK (PyPI e2b, unchanged) finds the server through
E2B_API_URL, E2B_SANDBOX_URL and E2B_API_KEY only; the vitest test that runs pytest sets them."""

import time
from typing import Callable, Iterator

import pytest
from e2b import Sandbox


def until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Polls `check` until it holds (state the server reaches asynchronously)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    created = Sandbox.create("base", timeout=300)
    try:
        yield created
    finally:
        created.kill()


@pytest.fixture
def home(sandbox: Sandbox) -> str:
    return sandbox.commands.run('printf "%s" "$HOME"').stdout
