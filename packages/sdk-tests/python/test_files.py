"""Files: text, binary, 10 MB, list, exists, make_dir, rename, remove, watch, and paths that
try shell injection."""

import hashlib
import os

from e2b import FileType, FilesystemEventType, Sandbox
from e2b.exceptions import NotFoundException

from conftest import until


def test_read_write_and_directory_operations(sandbox: Sandbox, home: str) -> None:
    folder = f"{home}/files"
    written = sandbox.files.write(f"{folder}/a.txt", "hello text")
    assert (written.name, written.path) == ("a.txt", f"{folder}/a.txt")
    assert sandbox.files.read(f"{folder}/a.txt") == "hello text"

    binary = bytes([0, 255, 1, 254, 10, 13, 0])
    sandbox.files.write(f"{folder}/b.bin", binary)
    assert bytes(sandbox.files.read(f"{folder}/b.bin", format="bytes")) == binary

    big = os.urandom(10 * 1024 * 1024)
    sandbox.files.write(f"{folder}/big.bin", big)
    back = bytes(sandbox.files.read(f"{folder}/big.bin", format="bytes"))
    assert len(back) == len(big)
    assert hashlib.sha256(back).digest() == hashlib.sha256(big).digest()

    listed = sandbox.files.list(folder)
    assert sorted(e.name for e in listed) == ["a.txt", "b.bin", "big.bin"]
    assert next(e for e in listed if e.name == "big.bin").type == FileType.FILE
    assert sandbox.files.exists(f"{folder}/a.txt") is True
    assert sandbox.files.exists(f"{folder}/missing") is False
    assert sandbox.files.make_dir(f"{folder}/sub") is True
    assert sandbox.files.make_dir(f"{folder}/sub") is False
    moved = sandbox.files.rename(f"{folder}/a.txt", f"{folder}/sub/c.txt")
    assert moved.path == f"{folder}/sub/c.txt"
    assert sandbox.files.exists(f"{folder}/a.txt") is False
    sandbox.files.remove(f"{folder}/sub")
    assert sandbox.files.exists(f"{folder}/sub/c.txt") is False
    try:
        sandbox.files.read(f"{folder}/sub/c.txt")
        raise AssertionError("reading a removed file must raise")
    except NotFoundException:
        pass


def test_watch(sandbox: Sandbox, home: str) -> None:
    folder = f"{home}/watched"
    sandbox.files.make_dir(folder)
    # The sync SDK polls: CreateWatcher, GetWatcherEvents, RemoveWatcher.
    watcher = sandbox.files.watch_dir(folder)
    sandbox.files.write(f"{folder}/new.txt", "x")
    seen = []

    def created() -> bool:
        seen.extend(watcher.get_new_events())
        return any(e.name == "new.txt" and e.type == FilesystemEventType.CREATE for e in seen)

    until(created, "a create event")
    watcher.stop()


def test_paths_are_not_shell(sandbox: Sandbox, home: str) -> None:
    folder = f"{home}/evil"
    name = "q'\";$(touch injected)`touch injected2`"
    sandbox.files.write(f"{folder}/{name}", "safe")
    assert sandbox.files.read(f"{folder}/{name}") == "safe"
    assert name in [e.name for e in sandbox.files.list(folder)]
    for place in (home, folder):
        assert sandbox.files.exists(f"{place}/injected") is False
        assert sandbox.files.exists(f"{place}/injected2") is False
