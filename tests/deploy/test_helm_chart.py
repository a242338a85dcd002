"""deploy/helm/switchyard rendered by Helm's engine and linted by `helm lint --strict`; every
manifest validated against the Kubernetes schemas (strict: unknown fields fail, as
kubeconform -strict does); then what the gateway needs from them: probes, ports, the drain,
secrets by reference, a config switchyard's loader accepts, the migration hook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from switchyard.config.load import load_config
from switchyard.config.schema import SwitchyardConfig
from switchyard.server.run import CUT_GRACE
from tests.deploy.chart import RELEASE, REQUIRED, kinds, one, render, render_error
from tests.deploy.dockerfile import parse
from tests.deploy.files import CHART, DOCKERFILE, looks_secret, tool_module

FULLNAME = f"{RELEASE}-switchyard"
KUBERNETES = ("1.25.0", "1.37.0")  # Chart.yaml's kubeVersion floor and the newest schemas


def pod_spec(documents: list[dict[str, Any]], kind: str = "Deployment") -> dict[str, Any]:
    spec: dict[str, Any] = one(documents, kind)["spec"]["template"]["spec"]
    return spec


def container(documents: list[dict[str, Any]], kind: str = "Deployment") -> dict[str, Any]:
    (found,) = pod_spec(documents, kind)["containers"]
    assert isinstance(found, dict)
    return found


def env_of(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in spec["env"]}


def pod_environment(spec: dict[str, Any]) -> dict[str, str]:
    """The container's environment, each secret replaced by a stand-in naming its key."""
    return {
        name: e["value"] if "value" in e else f"secret:{e['valueFrom']['secretKeyRef']['key']}"
        for name, e in env_of(spec).items()
    }


def mounted_config(
    documents: list[dict[str, Any]], tmp_path: Path, kind: str = "Deployment"
) -> SwitchyardConfig:
    """The config as the container's `switchyard` reads it: the file SWITCHYARD_CONFIG names,
    from the ConfigMap mounted there, with the container's environment."""
    spec, gateway = pod_spec(documents, kind), container(documents, kind)
    env = pod_environment(gateway)
    path = Path(env["SWITCHYARD_CONFIG"])
    (mount,) = [m for m in gateway["volumeMounts"] if m["mountPath"] == str(path.parent)]
    assert mount["readOnly"] is True
    (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    configmap = one(documents, "ConfigMap", volume["configMap"]["name"])
    (tmp_path / kind).mkdir(exist_ok=True)
    file = tmp_path / kind / path.name
    file.write_text(configmap["data"][path.name])
    return load_config(file, env=env)


def test_helm_lint_strict_finds_nothing() -> None:
    helm = tool_module("helm_python")
    report = helm.lint(CHART, REQUIRED, strict=True)
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["errors"] == [] and problems == [], report


@pytest.mark.parametrize("version", KUBERNETES)
@pytest.mark.parametrize(
    "values",
    [{}, {"autoscaling": {"enabled": False}, "serviceMonitor": {"enabled": True}}],
    ids=["defaults", "fixed-replicas"],
)
def test_every_manifest_is_valid_kubernetes(version: str, values: dict[str, Any]) -> None:
    validator = tool_module("kubernetes_validate")
    for document in render(values):
        if document["apiVersion"] == "monitoring.coreos.com/v1":
            continue  # prometheus-operator's CRD: no schema here, its fields are checked below
        validator.validate(document, version, strict=True)


def test_the_release_has_what_the_issue_lists() -> None:
    assert kinds(render()) == [
        "ConfigMap",
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Job",
        "PodDisruptionBudget",
        "Service",
    ]
    documents = render({"serviceMonitor": {"enabled": True}})
    monitor = one(documents, "ServiceMonitor")["spec"]
    assert monitor["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "15s"}]
    assert monitor["selector"]["matchLabels"] == one(documents, "Service")["spec"]["selector"]


def test_probes_ports_and_the_image_agree() -> None:
    documents = render()
    gateway = container(documents)
    (port,) = gateway["ports"]
    (expose,) = parse(DOCKERFILE).stage("runtime").all("EXPOSE")
    assert port == {"name": "http", "containerPort": int(expose.text), "protocol": "TCP"}
    assert gateway["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert gateway["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert gateway["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert gateway["args"] == ["serve", "--host", "0.0.0.0", "--port", str(port["containerPort"])]
    service = one(documents, "Service")["spec"]
    assert service["ports"] == [
        {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}
    ]
    pod_labels = one(documents, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["selector"].items() <= pod_labels.items()


def test_shutdown_drains_before_the_grace_period_ends(tmp_path: Path) -> None:
    documents = render()
    command = container(documents)["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    drain = mounted_config(documents, tmp_path).server.drain_seconds
    grace = pod_spec(documents)["terminationGracePeriodSeconds"]
    assert grace > float(command[1]) + drain + CUT_GRACE
    assert render({"terminationGracePeriodSeconds": 26})  # 5 s sleep + 20 s drain: just room
    message = render_error({"terminationGracePeriodSeconds": 25})
    assert "must exceed preStopSleepSeconds + config.server.drain_seconds (25)" in message


def test_non_root_read_only_and_no_service_account_token() -> None:
    documents = render()
    for kind in ("Deployment", "Job"):
        spec, security = pod_spec(documents, kind), container(documents, kind)["securityContext"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == 10001
        assert spec["automountServiceAccountToken"] is False
        assert security == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
        writable = {m["mountPath"] for m in container(documents, kind)["volumeMounts"]}
        assert "/tmp" in writable
    resources = container(documents)["resources"]
    assert resources["requests"]["cpu"] and resources["limits"]["memory"]


def test_secrets_are_references_to_existing_secrets() -> None:
    documents = render(
        {"providerKeys": [{"name": "OPENAI_API_KEY", "secretName": "llm-keys", "key": "openai"}]}
    )
    for kind in ("Deployment", "Job"):
        env = env_of(container(documents, kind))
        for name, entry in env.items():
            if looks_secret(name) or name == "PGPASSWORD":
                assert "value" not in entry, f"{kind} {name}: a literal secret"
        refs = {n: e["valueFrom"]["secretKeyRef"] for n, e in env.items() if "valueFrom" in e}
        assert refs == {
            "SWITCHYARD_MASTER_KEY": {"name": "switchyard-master-key", "key": "master-key"},
            "PGPASSWORD": {"name": "switchyard-postgres", "key": "password"},
            "OPENAI_API_KEY": {"name": "llm-keys", "key": "openai"},
        }
    assert "Secret" not in kinds(documents), "the chart references Secrets, never makes them"
    missing = render_error({}, required=False)
    assert "masterKey.existingSecret: name the Secret holding the master key" in missing


def test_the_mounted_config_validates_and_shares_state(tmp_path: Path) -> None:
    documents = render()
    env = pod_environment(container(documents))
    config = mounted_config(documents, tmp_path)
    assert config.storage is not None and config.cache is not None
    assert config.storage.url == env["DATABASE_URL"]
    assert config.storage.url.startswith("postgresql+asyncpg://")
    assert "@" in config.storage.url and ":" not in config.storage.url.split("//")[1].split("@")[0]
    redis = env["REDIS_URL"]
    assert config.storage.redis_url == redis
    assert (config.cache.backend, config.cache.url) == ("redis", redis)
    assert (config.limits.backend, config.limits.url) == ("redis", redis)
    store = config.router.breaker_store
    assert (store.backend, store.url) == ("redis", redis)
    assert config.server.port == container(documents)["ports"][0]["containerPort"]
    checksum = one(documents, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    changed = render({"config": {"server": {"drain_seconds": 10}}})
    annotations = one(changed, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["checksum/config"] != checksum["checksum/config"], "a change rolls pods"


def test_a_users_providers_and_key_reach_the_config(tmp_path: Path) -> None:
    """The README's my-values.yaml: a provider keyed from a Secret, the chart's local provider
    dropped (null), its aliases replaced (Helm replaces lists, merges maps)."""
    documents = render(
        {
            "providerKeys": [{"name": "OPENAI_API_KEY", "secretName": "llm-keys", "key": "openai"}],
            "config": {
                "providers": {
                    "local": None,
                    "openai": {"type": "openai", "api_key": "${OPENAI_API_KEY}"},
                },
                "models": [
                    {"name": "smart", "deployments": [{"provider": "openai", "model": "gpt-4.1"}]}
                ],
            },
        }
    )
    config = mounted_config(documents, tmp_path)
    assert list(config.providers) == ["openai"]
    assert [alias.name for alias in config.models] == ["smart"]
    api_key = config.providers["openai"].api_key
    assert api_key is not None and api_key.get_secret_value() == "secret:openai"
    assert config.storage is not None and config.limits.backend == "redis"  # kept from the chart


def test_replicas_autoscaling_and_disruption_budget() -> None:
    documents = render()
    deployment = one(documents, "Deployment")
    assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
    hpa = one(documents, "HorizontalPodAutoscaler")["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": FULLNAME,
    }
    pdb = one(documents, "PodDisruptionBudget")["spec"]
    assert pdb["minAvailable"] < hpa["minReplicas"], "a drain must be able to evict a pod"
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    fixed = render({"autoscaling": {"enabled": False}, "replicaCount": 3})
    assert one(fixed, "Deployment")["spec"]["replicas"] == 3
    assert "HorizontalPodAutoscaler" not in kinds(fixed)


def test_migrations_run_as_a_hook_before_install_and_upgrade(tmp_path: Path) -> None:
    documents = render()
    job = one(documents, "Job")
    configmap = one(documents, "ConfigMap", f"{FULLNAME}-migrations")
    hooks = {d["kind"]: d["metadata"]["annotations"] for d in (job, configmap)}
    for hook in hooks.values():
        assert hook["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert "before-hook-creation" in hook["helm.sh/hook-delete-policy"]
    weights = {kind: int(a["helm.sh/hook-weight"]) for kind, a in hooks.items()}
    assert weights["ConfigMap"] < weights["Job"], "the job's config exists before the job"
    migrate = container(documents, "Job")
    assert migrate["args"] == ["db", "upgrade"]
    assert pod_spec(documents, "Job")["restartPolicy"] == "Never"
    assert migrate["env"] == container(documents)["env"]
    assert mounted_config(documents, tmp_path, "Job") == mounted_config(documents, tmp_path)
    assert "Job" not in kinds(render({"migrations": {"enabled": False}}))
