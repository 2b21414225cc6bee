"""The Kubernetes manifests under ``deploy/`` and the Dockerfile: valid, consistent with each other
and with the commands and settings the other tests run. (No cluster or Docker engine here: their
shape is checked, and hadolint lints the Dockerfile when it is installed.)"""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from gateway.ops.server import ServerOptions
from gateway.settings import parse_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KINDS = {"ConfigMap", "Secret", "Deployment", "Service", "HorizontalPodAutoscaler"}


@pytest.fixture(scope="module")
def manifests() -> dict[str, dict]:
    listed = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())["resources"]
    documents = [doc for name in listed
                 for doc in yaml.safe_load_all((DEPLOY / name).read_text()) if doc]
    for doc in documents:
        assert {"apiVersion", "kind", "metadata"} <= doc.keys(), doc
        assert doc["metadata"]["name"]
    by_kind = {doc["kind"]: doc for doc in documents}
    assert by_kind.keys() == KINDS and len(documents) == len(KINDS)
    assert sorted(listed) == sorted(p.name for p in DEPLOY.glob("*.yaml")
                                    if p.name != "kustomization.yaml")
    return by_kind


def container(manifests: dict[str, dict]) -> dict:
    (only,) = manifests["Deployment"]["spec"]["template"]["spec"]["containers"]
    return only


def test_the_deployment_selects_its_pods_and_the_service_and_hpa_find_them(manifests):
    deployment, service, hpa = (manifests[k] for k in ("Deployment", "Service",
                                                       "HorizontalPodAutoscaler"))
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    ports = {port["name"]: port["containerPort"] for port in container(manifests)["ports"]}
    assert all(port["targetPort"] in ports for port in service["spec"]["ports"])
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_the_probes_ask_the_gateways_endpoints(manifests):
    spec = container(manifests)
    ports = {port["name"] for port in spec["ports"]}
    paths = {name: spec[name]["httpGet"] for name in ("startupProbe", "livenessProbe",
                                                      "readinessProbe")}
    assert {name: probe["path"] for name, probe in paths.items()} == {
        "startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    assert all(probe["port"] in ports for probe in paths.values())


def test_the_settings_file_and_its_secrets_make_valid_settings(manifests):
    secrets = manifests["Secret"]["stringData"]
    spec = container(manifests)
    assert [ref["secretRef"]["name"] for ref in spec["envFrom"]] == [
        manifests["Secret"]["metadata"]["name"]]
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(manifests["ConfigMap"]["data"]["settings.cfg"])
    env = {**secrets, **{item["name"]: item["value"] for item in spec["env"]}}
    settings = parse_settings(parser, env)
    options = ServerOptions.from_settings(settings)
    assert (options.host, options.port) == ("0.0.0.0", 8080)
    assert settings.section("Cluster").get("Redis")  # replicas share their state
    mounts = {mount["mountPath"] for mount in spec["volumeMounts"]}
    assert env["GATEWAY_SETTINGS"] in mounts
    assert Path(settings.section("Security").get("UsersFile")).parent.as_posix() in mounts
    grace = manifests["Deployment"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > options.graceful_timeout


def test_the_pod_runs_as_the_images_non_root_user(manifests):
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert f"USER {pod['securityContext']['runAsUser']}" in dockerfile_lines()


def dockerfile_lines() -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [" ".join(line.split()) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_the_image_runs_the_commands_the_tests_run():
    lines = dockerfile_lines()
    assert lines[0] == "FROM python:3.11-slim"
    assert 'ENTRYPOINT ["kintone-gateway"]' in lines and 'CMD ["serve"]' in lines
    (healthcheck,) = [line for line in lines if line.startswith("HEALTHCHECK")]
    assert healthcheck.endswith('CMD ["python", "-m", "gateway.ops.probe"]')
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ignored[ignored.index("*") + 1:][:3] == ["!pyproject.toml", "!README.md", "!gateway/"]


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint is not installed")
def test_hadolint_finds_nothing():
    result = subprocess.run(["hadolint", str(ROOT / "Dockerfile")], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
