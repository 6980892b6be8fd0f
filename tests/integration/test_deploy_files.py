"""deploy/: the alert rules load in promtool and fire as meant, and every metric that the rules
and the dashboard name is one the server exposes; docs/metrics.md lists every metric."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conductor.metrics import Metrics
from tests.integration.api import complete, poll, register_workflow, sequence, start

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "conductor.json"
METRIC_NAME = re.compile(r"\b((?:conductor|process|python)_[a-z_]+)\b")


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing: .ci/run installs Debian's prometheus package")
        pytest.skip("promtool not installed (Debian package prometheus)")
    return found


def alert_expressions() -> list[str]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]


def exposed_names(text: str) -> set[str]:
    """Every sample name /metrics can show: each family's, with its histogram series."""
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


def run_promtool(*args: str) -> str:
    """promtool with `args`, in deploy/prometheus (where the rule files name each other);
    fails the test unless it succeeds. Returns what it printed."""
    done = subprocess.run(
        [promtool(), *args],
        cwd=DEPLOY / "prometheus",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_alert_rules_load_in_promtool() -> None:
    printed = run_promtool("check", "rules", ALERTS.name)
    assert f"SUCCESS: {len(alert_expressions())} rules found" in printed


def test_the_alerts_fire_as_their_unit_tests_say() -> None:
    run_promtool("test", "rules", "alerts_test.yml")


def test_the_prometheus_config_is_valid() -> None:
    run_promtool("check", "config", "prometheus.yml")


async def test_every_metric_the_rules_and_dashboard_name_exists_after_a_run(client) -> None:
    await register_workflow(client, sequence("billing", "charge_ref", task="charge"))
    await start(client, "billing")
    [task] = await poll(client, "charge")
    assert (await complete(client, task)).status == 200
    response = await client.get("/metrics")
    exposed = exposed_names(await response.text())

    named = {
        name
        for expr in alert_expressions() + dashboard_expressions()
        for name in METRIC_NAME.findall(expr)
    }
    assert len(named) > 25  # the extraction found the expressions' metrics
    assert sorted(named - exposed) == []


def test_docs_list_every_metric() -> None:
    documented = (ROOT / "docs" / "metrics.md").read_text()
    families = {f.name for f in Metrics().registry.collect()}
    missing = sorted(
        name
        for name in families
        if f"`{name}`" not in documented and f"`{name}_total`" not in documented
    )
    assert missing == []


def test_the_compose_file_mounts_files_that_exist() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "conductor", "prometheus", "grafana"} <= services.keys()
    assert (DEPLOY / services["conductor"]["build"]["context"] / "Dockerfile").is_file()
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), volume
    provisioning = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/dashboards/conductor.yml").read_text()
    )
    mounted = dict(v.split(":")[1::-1] for v in services["grafana"]["volumes"])
    folder = mounted[provisioning["providers"][0]["options"]["path"]]
    assert (DEPLOY / folder / "conductor.json").is_file()
