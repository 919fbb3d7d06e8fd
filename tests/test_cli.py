"""The ``selectchat`` command line: help, version, and clear errors for bad input.

Each test runs ``python -m selectchat ...`` in a subprocess, as a user would
type it, and checks the exit code and what was printed.  A command that
should fail before serving gets ``--exit-on-eof`` and an empty stdin, so
that a server that starts by mistake exits (with 0, failing the test) rather
than hanging.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from selectchat import __version__
from selectchat.cli import SUBCOMMANDS
from selectchat.launch import PACKAGE_PARENT


def selectchat(*args, env=None, command=None):
    """Run ``python -m selectchat ARGS``; the CompletedProcess, output as text."""
    environment = dict(os.environ if env is None else env)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, os.environ.get("PYTHONPATH")]))
    return subprocess.run(command or [sys.executable, "-m", "selectchat", *args],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=environment, timeout=30)


def assert_clear_failure(result, *phrases):
    """Non-zero exit, the phrases on stderr, no traceback, and no server started."""
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    assert "listening on" not in result.stdout
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


# --- help and version ---------------------------------------------------------

def test_top_level_help_names_every_command():
    result = selectchat("--help")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("usage: selectchat ")
    for name, (_, help_text) in SUBCOMMANDS.items():
        assert name in result.stdout and help_text in result.stdout
    assert "selectchat COMMAND --help" in result.stdout


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_subcommand_has_help(name):
    result = selectchat(name, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith(f"usage: selectchat {name}")
    assert SUBCOMMANDS[name][1][1:] in result.stdout   # its one-line description
    assert "-h, --help" in result.stdout


def test_server_help_explains_its_options():
    text = selectchat("server", "--help").stdout
    for option in ("--host", "--port", "--backend", "--max-clients", "--max-sendq", "--ping-interval",
                   "--ping-timeout", "--room", "--no-client-rooms", "--password", "--password-env",
                   "--no-console", "--exit-on-eof", "--console-thread", "--log", "--quiet"):
        assert option in text
    assert "selectchat server listening on HOST:PORT" in text   # the first-line contract
    assert "FD_SETSIZE" in text


def test_version():
    result = selectchat("--version")
    assert (result.returncode, result.stdout) == (0, f"selectchat {__version__}\n")


def test_no_command_or_an_unknown_one_is_a_usage_error():
    missing = selectchat()
    assert missing.returncode == 2 and "usage: selectchat" in missing.stderr
    unknown = selectchat("serve")
    assert unknown.returncode == 2 and "invalid choice: 'serve'" in unknown.stderr
    bad_option = selectchat("server", "--bogus")
    assert bad_option.returncode == 2 and "unrecognized arguments: --bogus" in bad_option.stderr


def test_the_installed_script_runs():
    # `pip install` makes a `selectchat` script beside the interpreter; CI installs it.
    script = Path(sys.executable).parent / "selectchat"
    if not script.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{script} is missing: the package is not installed")
        pytest.skip("selectchat is not installed in this interpreter's environment")
    result = selectchat(command=[str(script), "--version"])
    assert (result.returncode, result.stdout) == (0, f"selectchat {__version__}\n")


# --- bad input ------------------------------------------------------------------

@pytest.mark.parametrize("spec, phrase", [
    ("lobby:ten", "LIMIT must be a number"),
    (":5", "expected NAME[:LIMIT[:KEY]]"),
    ("bad room", "no spaces"),
    ("lobby:-1", "the limit must be 0 (none) or more"),
])
def test_a_bad_room_spec_is_a_clear_error(spec, phrase):
    result = selectchat("server", "--port", "0", "--exit-on-eof", "--room", spec)
    assert_clear_failure(result, "selectchat server:", f"--room {spec!r}", phrase)


def test_the_same_room_twice_is_a_clear_error():
    result = selectchat("server", "--port", "0", "--exit-on-eof", "--room", "lobby:3", "--room", "LOBBY")
    assert_clear_failure(result, "selectchat server:", "#LOBBY already exists")


def test_a_port_in_use_is_a_clear_error_and_exit_1():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = selectchat("server", "--port", str(port), "--exit-on-eof")
    assert result.returncode == 1
    assert result.stderr.strip() == f"selectchat server: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert result.stdout == ""


@pytest.mark.parametrize("options, phrase", [
    (["--port", "70000"], "argument --port: 70000 is not a port number (0-65535)"),
    (["--port", "-1"], "argument --port: -1 is not a port number (0-65535)"),
    (["--ping-interval", "0"], "argument --ping-interval: 0 is not a positive number"),
    (["--ping-timeout", "-5"], "argument --ping-timeout: -5 is not a positive number"),
    (["--max-clients", "0"], "argument --max-clients: 0 is not a positive number"),
    (["--backend", "kqueue"], "argument --backend: invalid choice: 'kqueue'"),
])
def test_out_of_range_numbers_are_usage_errors(options, phrase):
    port = [] if "--port" in options else ["--port", "0"]
    result = selectchat("server", *port, "--exit-on-eof", *options)
    assert result.returncode == 2
    assert_clear_failure(result, "usage: selectchat server", phrase)


def test_an_unknown_host_is_a_clear_error():
    result = selectchat("server", "--host", "no-such-host.invalid", "--port", "0", "--exit-on-eof")
    assert result.returncode == 1
    assert_clear_failure(result, "selectchat server: cannot listen on no-such-host.invalid:0")


def test_password_env_naming_an_unset_variable_is_a_clear_error():
    env = {k: v for k, v in os.environ.items() if k != "SELECTCHAT_UNSET_VARIABLE"}
    result = selectchat("server", "--port", "0", "--exit-on-eof",
                        "--password-env", "SELECTCHAT_UNSET_VARIABLE", env=env)
    assert_clear_failure(result, "selectchat server: environment variable SELECTCHAT_UNSET_VARIABLE is not set")


def test_password_env_set_starts_the_server():
    # The counterpart of the test above: with the variable set, it serves (and EOF stops it).
    env = dict(os.environ, SELECTCHAT_TEST_PASSWORD="x")
    result = selectchat("server", "--port", "0", "--exit-on-eof", "--password-env", "SELECTCHAT_TEST_PASSWORD",
                        env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("selectchat server listening on 127.0.0.1:")


def test_the_server_subcommand_loads_only_what_it_runs():
    code = ("import sys; from selectchat import cli; cli.build_parser('server').parse_args(['server']); "
            "print(sorted(m for m in sys.modules if m.startswith(('selectchat.bench', 'selectchat.grading', "
            "'selectchat.trace', 'selectchat.client', 'matplotlib', 'ipywidgets'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": PACKAGE_PARENT})
    assert out.stdout.strip() == "[]"
