"""Settings: environment plus .env (the host environment wins), validated with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_server_freshbooks.config import ConfigError, load_settings


def test_defaults_on_a_clean_machine() -> None:
    settings = load_settings(environ={}, use_dotenv=False)
    assert settings.api_url == "https://api.freshbooks.com"
    assert settings.read_only is False
    assert settings.toolsets is None
    assert settings.max_concurrency == 4
    assert settings.access_token is None


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("FRESHBOOKS_ACCOUNT_ID=FROMFILE\nFRESHBOOKS_BUSINESS=Acme\n")
    settings = load_settings(environ={"FRESHBOOKS_ACCOUNT_ID": "FROMENV"}, dotenv_path=dotenv)
    assert settings.account_id == "FROMENV"
    assert settings.business == "Acme"


def test_values_are_parsed() -> None:
    settings = load_settings(
        environ={
            "FRESHBOOKS_READ_ONLY": "yes",
            "FRESHBOOKS_TOOLSETS": "clients, Invoices",
            "FRESHBOOKS_MAX_CONCURRENCY": "8",
            "FRESHBOOKS_API_URL": "http://127.0.0.1:8780/",
        },
        use_dotenv=False,
    )
    assert settings.read_only is True
    assert settings.toolsets == ("clients", "invoices")
    assert settings.max_concurrency == 8
    assert settings.api_url == "http://127.0.0.1:8780"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("FRESHBOOKS_READ_ONLY", "maybe", "FRESHBOOKS_READ_ONLY"),
        ("FRESHBOOKS_TOOLSETS", "clients,bogus", "unknown toolset(s) bogus"),
        ("FRESHBOOKS_MAX_CONCURRENCY", "0", "FRESHBOOKS_MAX_CONCURRENCY"),
        ("FRESHBOOKS_API_URL", "ftp://x", "must start with http"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        load_settings(environ={name: value}, use_dotenv=False)


def test_secrets_do_not_print() -> None:
    settings = load_settings(environ={"FRESHBOOKS_ACCESS_TOKEN": "canary-secret-123"}, use_dotenv=False)
    assert "canary-secret-123" not in repr(settings)
    assert "canary-secret-123" not in str(settings.model_dump())
