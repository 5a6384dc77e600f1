"""Commands: output, exit codes, envs and cwd, stdin, background commands, kill, the sandbox's
envVars, and a PTY session."""

from e2b import CommandExitException, PtySize, Sandbox

from conftest import until


def test_output_and_exit_codes(sandbox: Sandbox) -> None:
    run = sandbox.commands.run("echo out; echo err >&2")
    assert (run.exit_code, run.stdout, run.stderr) == (0, "out\n", "err\n")
    try:
        sandbox.commands.run("echo partial; exit 3")
        raise AssertionError("a failing command must raise")
    except CommandExitException as error:
        assert error.exit_code == 3
        assert error.stdout == "partial\n"


def test_envs_and_cwd(sandbox: Sandbox, home: str) -> None:
    sandbox.files.make_dir(f"{home}/work")
    run = sandbox.commands.run(
        'printf "%s|%s" "$X" "$(pwd)"', envs={"X": "per command"}, cwd=f"{home}/work"
    )
    assert run.stdout == f"per command|{home}/work"


def test_stdin(sandbox: Sandbox) -> None:
    reader = sandbox.commands.run("read line; echo got:$line", background=True, stdin=True)
    sandbox.commands.send_stdin(reader.pid, "hi\n")
    assert reader.wait().stdout == "got:hi\n"


def test_background_and_kill(sandbox: Sandbox) -> None:
    sleeper = sandbox.commands.run("sleep 600", background=True)
    assert any(p.pid == sleeper.pid for p in sandbox.commands.list())
    assert sandbox.commands.kill(sleeper.pid) is True
    until(
        lambda: not any(p.pid == sleeper.pid for p in sandbox.commands.list()),
        "the killed command to leave the list",
    )
    assert sandbox.commands.kill(sleeper.pid) is False


def test_sandbox_env_vars() -> None:
    sandbox = Sandbox.create("base", envs={"GREETING": "from envVars", "SHADOWED": "sandbox"})
    try:
        run = sandbox.commands.run(
            'printf "%s|%s" "$GREETING" "$SHADOWED"', envs={"SHADOWED": "command"}
        )
        assert run.stdout == "from envVars|command"
    finally:
        sandbox.kill()


def test_pty(sandbox: Sandbox) -> None:
    terminal = sandbox.pty.create(PtySize(rows=24, cols=80))
    sandbox.pty.resize(terminal.pid, PtySize(rows=30, cols=100))
    sandbox.pty.send_stdin(terminal.pid, b"echo pty-$((6*7)); stty size\n")
    output = bytearray()
    exited = False
    # Exit only once the output is in: on the test cluster, what a terminal's shell prints in
    # its last instant may not arrive (see ../README.md).
    for _, _, data in terminal:
        if data is not None:
            output.extend(data)
        if not exited and b"pty-42" in output and b"30 100" in output:
            sandbox.pty.send_stdin(terminal.pid, b"exit 0\n")
            exited = True
    assert exited, output.decode(errors="replace")
    assert terminal.wait().exit_code == 0
