"""The command line: tools, call, demo, --help everywhere, bad flags, and `python -m`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_server_freshbooks.cli import main
from mcp_server_freshbooks.demo import TOUR

CLI_ENV = {k: v for k, v in os.environ.items() if not k.startswith("FRESHBOOKS_")}
SCRIPT = Path(sys.executable).with_name("mcp-server-freshbooks")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No FRESHBOOKS_* settings and no .env from the developer's machine leak into these runs."""
    for key in list(os.environ):
        if key.startswith("FRESHBOOKS_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FRESHBOOKS_TOKEN_FILE", str(tmp_path / "tokens.json"))


def test_tools_demo_lists_the_client_tools(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tools", "--demo", "--toolsets", "clients,client_admin"]) == 0
    lines = capsys.readouterr().out.splitlines()
    by_name = {line.split()[0]: line.split()[1] for line in lines if line.strip()}
    assert by_name["find_client"] == "read" and by_name["get_client"] == "read"
    for name in ("create_client", "update_client", "archive_client", "restore_client"):
        assert by_name[name] == "write"


def test_tools_read_only_and_toolsets_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tools", "--demo", "--read-only", "--toolsets", "clients"]) == 0
    names = {line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert names == {"find_client", "get_client"}


def test_call_prints_structured_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["call", "find_client", '{"query": "acme", "limit": 2}', "--demo"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["page"] == 1 and out["limit"] == 2
    assert all("acme" in json.dumps(row).lower() for row in out["clients"])


def test_call_tool_error_exits_1_with_the_error_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["call", "get_client", '{"client_id": 1}', "--demo"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "find_client" in captured.err and "Traceback" not in captured.err


@pytest.mark.parametrize("arguments", ["not json", "[1, 2]"])
def test_call_bad_json_arguments_exit_2(capsys: pytest.CaptureFixture[str], arguments: str) -> None:
    assert main(["call", "find_client", arguments, "--demo"]) == 2
    err = capsys.readouterr().err
    assert "JSON" in err and len(err.strip().splitlines()) == 1


def test_call_write_in_read_only_mode_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["call", "create_client", '{"organization": "X"}', "--demo", "--read-only"]) == 1
    assert "create_client" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["", "serve", "tools", "call", "demo", "auth", "doctor", "sandbox"])
def test_help_everywhere(capsys: pytest.CaptureFixture[str], command: str) -> None:
    argv = [command, "--help"] if command else ["--help"]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse exits; the sandbox CLI returns its code instead
        code = exc.code  # type: ignore[assignment]
    assert code == 0
    out = capsys.readouterr().out
    assert "usage:" in out.lower()


@pytest.mark.parametrize("argv", [["tools", "--bogus"], ["call"], ["serve", "--transport", "carrier-pigeon"]])
def test_bad_flags_give_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "error" in err and "--help" in err


def test_bad_setting_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tools", "--demo", "--toolsets", "clients,bogus"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bogus" in err and "FRESHBOOKS_TOOLSETS" in err


def test_demo_find_client_step_works(capsys: pytest.CaptureFixture[str]) -> None:
    step = next(args for name, args, _ in TOUR if name == "find_client")
    main(["demo"])
    out = capsys.readouterr().out
    section = out.split(f"find_client({json.dumps(step)})", 1)[1].split("\n== ", 1)[0]
    assert "error:" not in section
    assert "clients matching" in section
    assert '"mcpServers"' in out


def test_python_dash_m_help() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_server_freshbooks", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=CLI_ENV,
    )
    assert proc.returncode == 0 and "usage:" in proc.stdout and proc.stderr == ""


def test_console_script_call_error_exit_code(tmp_path: Path) -> None:
    assert SCRIPT.exists(), "the console script is installed in the venv"
    proc = subprocess.run(
        [str(SCRIPT), "call", "get_client", '{"client_id": 1}', "--demo"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**CLI_ENV, "FRESHBOOKS_TOKEN_FILE": str(tmp_path / "t.json")},
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "find_client" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------------- log level (#11)


def _root_level_after(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """The root logger level main() configured (logging.basicConfig runs before the command)."""
    import logging

    seen: dict[str, int] = {}
    monkeypatch.setattr(logging, "basicConfig", lambda **kw: seen.setdefault("level", kw["level"]))
    assert main(argv) == 0
    return seen["level"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--log-level", "debug", "tools", "--demo"],
        ["--log-level=debug", "tools", "--demo"],
        ["--log-level=DEBUG", "tools", "--demo"],
        ["tools", "--demo", "--log-level", "Debug"],
        ["tools", "--demo", "--log-level=debug"],
    ],
)
def test_log_level_flag_both_forms_any_case(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    assert _root_level_after(argv, monkeypatch) == logging.DEBUG
    assert "find_client" in capsys.readouterr().out


def test_log_level_equals_form_defaults_to_serve() -> None:
    from mcp_server_freshbooks.cli import build_parser

    # what main() hands argparse for `mcp-server-freshbooks --log-level=INFO --demo` (no command): serve
    args = build_parser().parse_args(["--log-level=INFO", "serve", "--demo"])
    assert args.command == "serve" and args.log_level == "INFO" and args.demo


@pytest.mark.parametrize("where", ["flag", "env", "dotenv"])
@pytest.mark.parametrize("bad", ["TRACE", "verbose", "10"])
def test_bad_log_level_is_one_line_exit_2(
    where: str, bad: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["tools", "--demo"]
    if where == "flag":
        argv = [f"--log-level={bad}", *argv]
    elif where == "env":
        monkeypatch.setenv("FRESHBOOKS_LOG_LEVEL", bad)
    else:
        (tmp_path / ".env").write_text(f"FRESHBOOKS_LOG_LEVEL={bad}\n")
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert bad in err and "DEBUG, INFO, WARNING, ERROR" in err
    assert ("--log-level" if where == "flag" else "FRESHBOOKS_LOG_LEVEL") in err
    assert captured.out == ""


def test_log_level_from_env_file_and_environment_precedence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    (tmp_path / ".env").write_text("FRESHBOOKS_LOG_LEVEL=info\n")  # the working folder is tmp_path
    assert _root_level_after(["tools", "--demo"], monkeypatch) == logging.INFO
    monkeypatch.setenv("FRESHBOOKS_LOG_LEVEL", "error")  # the host's environment wins over .env
    assert _root_level_after(["tools", "--demo"], monkeypatch) == logging.ERROR
    assert _root_level_after(["--log-level", "debug", "tools", "--demo"], monkeypatch) == logging.DEBUG  # flag wins
    capsys.readouterr()


def test_python_dash_m_bad_log_level_has_no_traceback(tmp_path: Path) -> None:
    env = {**CLI_ENV, "FRESHBOOKS_LOG_LEVEL": "debug", "FRESHBOOKS_TOKEN_FILE": str(tmp_path / "t.json")}
    ok = subprocess.run(
        [sys.executable, "-m", "mcp_server_freshbooks", "tools", "--demo"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert ok.returncode == 0 and "find_client" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "mcp_server_freshbooks", "--log-level", "TRACE"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr and "TRACE" in bad.stderr
