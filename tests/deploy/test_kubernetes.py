"""deploy/kubernetes.yaml: valid against Kubernetes' own schemas (offline), and consistent with the image.

kubernetes-validate ships the OpenAPI schemas of every Kubernetes release, so the check runs with
no cluster and no network; ``strict`` refuses any field the schema does not know (a typo).
"""

import copy
import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")
kv = pytest.importorskip("kubernetes_validate")

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "deploy" / "kubernetes.yaml"
DOCS = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
BY_KIND = {d["kind"]: d for d in DOCS}
#: The oldest release the manifest is meant for (autoscaling/v2 is GA since 1.23) and the newest schemas shipped.
VERSIONS = ["1.25.0", kv.latest_version()]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("doc", DOCS, ids=[d["kind"] for d in DOCS])
def test_every_resource_is_valid_against_the_kubernetes_schema(doc, version):
    kv.validate(doc, version, strict=True)


def test_a_typo_or_a_wrong_type_is_refused():
    # the validator really checks: a misspelt field and a port given as text both fail
    bad = copy.deepcopy(BY_KIND["Deployment"])
    bad["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/healthz"
    with pytest.raises(kv.ValidationError):
        kv.validate(bad, kv.latest_version(), strict=True)
    bad = copy.deepcopy(BY_KIND["Service"])
    bad["spec"]["ports"][0]["port"] = "eighty"
    with pytest.raises(kv.ValidationError):
        kv.validate(bad, kv.latest_version(), strict=True)


def test_the_manifest_holds_a_deployment_a_service_and_an_autoscaler():
    assert sorted(BY_KIND) == ["Deployment", "HorizontalPodAutoscaler", "Service"]


def container():
    return BY_KIND["Deployment"]["spec"]["template"]["spec"]["containers"][0]


def test_readiness_and_liveness_ask_healthz_on_the_served_port():
    c = container()
    port = {p["name"]: p["containerPort"] for p in c["ports"]}
    for probe in ("readinessProbe", "livenessProbe"):
        get = c[probe]["httpGet"]
        assert get["path"] == "/healthz"
        assert port.get(get["port"], get["port"]) == 8000


def test_the_container_matches_the_image():
    dockerfile = (ROOT / "Dockerfile").read_text()
    c = container()
    env = {e["name"]: e["value"] for e in c["env"]}
    assert f"EXPOSE {c['ports'][0]['containerPort']}" in dockerfile
    assert env["LOSSLAB_PORT"] == str(c["ports"][0]["containerPort"]) and env["LOSSLAB_HOST"] == "0.0.0.0"
    uid = BY_KIND["Deployment"]["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
    assert re.search(rf"USER {uid}:", dockerfile)


def test_workers_are_a_valid_setting_and_fit_the_cpu_request(monkeypatch):
    from app.core.config import Settings

    c = container()
    workers = next(e["value"] for e in c["env"] if e["name"] == "LOSSLAB_WORKERS")
    monkeypatch.setenv("LOSSLAB_WORKERS", workers)
    assert Settings().workers == int(workers) == int(c["resources"]["requests"]["cpu"])


def test_the_service_and_the_autoscaler_point_at_the_deployment():
    dep, svc, hpa = BY_KIND["Deployment"], BY_KIND["Service"], BY_KIND["HorizontalPodAutoscaler"]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= labels.items()
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert svc["spec"]["ports"][0]["targetPort"] in ("http", 8000)
    ref = hpa["spec"]["scaleTargetRef"]
    assert (ref["kind"], ref["name"]) == ("Deployment", dep["metadata"]["name"])
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
