"""The control plane through the SDK: list with a metadata filter and pages, connect from a
second client, get_info, an unsupported feature, set_timeout and expiry, kill."""

import uuid

import pytest
from e2b import Sandbox, SandboxQuery
from e2b.exceptions import NotFoundException, SandboxException

from conftest import until


def test_lifecycle() -> None:
    suite = f"s{uuid.uuid4().hex[:12]}"
    sandboxes = [
        Sandbox.create("base", metadata={"suite": suite, "n": str(n)}, timeout=120) for n in (1, 2, 3)
    ]
    first, second, third = sandboxes
    try:
        paginator = Sandbox.list(query=SandboxQuery(metadata={"suite": suite}), limit=2)
        seen, pages = [], 0
        while paginator.has_next:
            items = paginator.next_items()
            pages += 1
            assert len(items) <= 2
            for item in items:
                assert item.state.value == "running"
                assert item.metadata["suite"] == suite
                assert item.template_id == "base"
                seen.append(item.sandbox_id)
        assert pages == 2
        assert sorted(seen) == sorted(s.sandbox_id for s in sandboxes)
        only = Sandbox.list(query=SandboxQuery(metadata={"suite": suite, "n": "2"})).next_items()
        assert [s.sandbox_id for s in only] == [second.sandbox_id]

        again = Sandbox.connect(first.sandbox_id)
        first.files.write("shared.txt", "from the first client")
        assert again.files.read("shared.txt") == "from the first client"
        assert again.commands.run("echo connected").stdout == "connected\n"
        info = Sandbox.get_info(first.sandbox_id)
        assert (info.template_id, info.state.value) == ("base", "running")
        assert info.metadata == {"suite": suite, "n": "1"}

        with pytest.raises(SandboxException, match="501.*not supported"):
            Sandbox.pause(first.sandbox_id)

        second.set_timeout(3)
        until(lambda: not second.is_running(), "the sandbox to time out")
        with pytest.raises(NotFoundException):
            Sandbox.get_info(second.sandbox_id)

        assert Sandbox.kill(third.sandbox_id) is True
        assert Sandbox.kill(third.sandbox_id) is False
        first.kill()
        assert first.is_running() is False
    finally:
        for s in sandboxes:
            try:
                Sandbox.kill(s.sandbox_id)
            except Exception:
                pass
