"""`Settings` from the environment, read as pydantic-settings read it (`settings_source`):
any case, JSON for container fields, text converted by pydantic for the others."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.settings import Settings
from chalicelib.settings_source import SettingsSourceError, is_container


def test_variables_of_any_case_are_read_and_converted() -> None:
    settings = Settings.from_environment(
        {
            "STAGE": "prod",
            "batch_size": "250",
            "Rate_Limit_Enabled": "false",
            "RETRY_CAP_S": "3600",
            "CONNECTORS": '["acquirer", "simulator"]',
            "ACQUIRER_URLS": '{"other": "https://other.example"}',
            "WEBHOOK_RETRY_SCHEDULE_S": "[1, 2.5]",
            "SCHEDULER_INTERVAL_S": "0.5",
            "UNRELATED": "ignored",
        }
    )
    assert settings.stage == "prod" and settings.batch_size == 250
    assert settings.rate_limit_enabled is False and settings.retry_cap_s == 3600.0
    assert settings.connectors == ["acquirer", "simulator"]
    assert settings.acquirer_urls == {"other": "https://other.example"}
    assert settings.webhook_retry_schedule_s == [1.0, 2.5]
    assert settings.scheduler_interval_s == 0.5


def test_defaults_and_validators_are_the_model_s() -> None:
    settings = Settings.from_environment({"ACQUIRER_URL": "https://acq.example"})
    assert settings.batch_size == Settings.model_fields["batch_size"].default
    assert settings.acquirer_urls == {"acquirer": "https://acq.example"}  # _stack_acquirer
    with pytest.raises(ValidationError):
        Settings.from_environment({"BATCH_SIZE": "0"})
    with pytest.raises(ValidationError):
        Settings.from_environment({"STAGE": "staging"})
    with pytest.raises(ValueError, match="not-an-address"):
        Settings.from_environment({"TRUSTED_PROXIES": "10.0.0.0/8, not-an-address"})


def test_a_container_variable_must_be_json_and_the_error_names_only_it() -> None:
    with pytest.raises(SettingsSourceError) as caught:
        Settings.from_environment({"CONNECTORS": "simulator,acquirer"})
    assert str(caught.value) == "CONNECTORS must be JSON"


def test_which_fields_are_containers() -> None:
    containers = {n for n, f in Settings.model_fields.items() if is_container(f.annotation)}
    assert containers == {"connectors", "acquirer_urls", "webhook_retry_schedule_s"}
    assert is_container(list[int] | None) and not is_container(str | None)
