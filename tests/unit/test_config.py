"""Settings read from the environment."""

from __future__ import annotations

from conductor.config import Settings


def test_payload_caps_default_to_conductors_10240_kb(monkeypatch) -> None:
    monkeypatch.delenv("CONDUCTOR_MAX_WORKFLOW_INPUT_BYTES", raising=False)
    monkeypatch.delenv("CONDUCTOR_MAX_TASK_OUTPUT_BYTES", raising=False)
    settings = Settings.from_env()
    assert settings.max_workflow_input_bytes == settings.max_task_output_bytes == 10485760


def test_payload_caps_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("CONDUCTOR_MAX_WORKFLOW_INPUT_BYTES", "2048")
    monkeypatch.setenv("CONDUCTOR_MAX_TASK_OUTPUT_BYTES", "4096")
    settings = Settings.from_env()
    assert (settings.max_workflow_input_bytes, settings.max_task_output_bytes) == (2048, 4096)
