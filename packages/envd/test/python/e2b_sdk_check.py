"""Drives the real Python SDK (PyPI e2b, unchanged) against the envd handler and prints what it
saw as one JSON object. Usage: e2b_sdk_check.py <sandbox url> <sandbox id> <token> <home>"""

import hashlib
import json
import os
import sys
import time

from packaging.version import Version
from e2b import Sandbox
from e2b.connection_config import ConnectionConfig
from e2b.exceptions import NotFoundException
from e2b.sandbox.commands.command_handle import CommandExitException

url, sandbox_id, token, home = sys.argv[1:5]
envd_version = os.environ["ENVD_VERSION"]

# What Sandbox.connect builds once the control plane has answered.
sandbox = Sandbox(
    sandbox_id=sandbox_id,
    envd_version=Version(envd_version),
    envd_access_token=token,
    sandbox_domain=None,
    connection_config=ConnectionConfig(
        sandbox_url=url,
        api_key="e2b_0000",
        extra_sandbox_headers={"E2b-Sandbox-Id": sandbox_id, "E2b-Sandbox-Port": "49983", "X-Access-Token": token},
    ),
)
seen = {}

run = sandbox.commands.run("echo hello; echo err >&2")
seen["run"] = [run.exit_code, run.stdout, run.stderr]
try:
    sandbox.commands.run("exit 4")
except CommandExitException as error:
    seen["exit_code"] = error.exit_code
seen["env_cwd"] = sandbox.commands.run('printf "%s %s" "$X" "$(pwd)"', envs={"X": "y z"}, cwd=home).stdout

sleeper = sandbox.commands.run("sleep 600", background=True)
seen["listed"] = any(p.pid == sleeper.pid for p in sandbox.commands.list())
seen["killed"] = [sandbox.commands.kill(sleeper.pid), sandbox.commands.kill(sleeper.pid)]
reader = sandbox.commands.run("read line; echo got:$line", background=True, stdin=True)
sandbox.commands.send_stdin(reader.pid, "hi\n")
seen["stdin"] = reader.wait().stdout

info = sandbox.files.write(f"{home}/py/a.txt", "from python")
seen["write"] = [info.path, info.name, info.type.name]
seen["read"] = sandbox.files.read(f"{home}/py/a.txt")
big = os.urandom(10 * 1024 * 1024)
sandbox.files.write(f"{home}/py/big.bin", big)
back = sandbox.files.read(f"{home}/py/big.bin", format="bytes")
seen["big_equal"] = hashlib.sha256(back).digest() == hashlib.sha256(big).digest()
seen["exists"] = [sandbox.files.exists(f"{home}/py/a.txt"), sandbox.files.exists(f"{home}/py/none")]
seen["make_dir"] = [sandbox.files.make_dir(f"{home}/py/d"), sandbox.files.make_dir(f"{home}/py/d")]
seen["list"] = sorted(entry.name for entry in sandbox.files.list(f"{home}/py"))

# The sync SDK's watcher polls: CreateWatcher / GetWatcherEvents / RemoveWatcher.
watcher = sandbox.files.watch_dir(f"{home}/py")
sandbox.files.write(f"{home}/py/new.txt", "n")
events = []
for _ in range(100):
    events += watcher.get_new_events()
    if any(event.name == "new.txt" for event in events):
        break
    time.sleep(0.1)
watcher.stop()
seen["watch"] = sorted({f"{event.type.name}:{event.name}" for event in events})

try:
    sandbox.files.read(f"{home}/py/none")
except NotFoundException as error:
    seen["read_missing"] = type(error).__name__
sandbox.files.remove(f"{home}/py")
seen["removed"] = not sandbox.files.exists(f"{home}/py")

print(json.dumps(seen))
