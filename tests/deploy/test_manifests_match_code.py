"""The manifests and the code agree: topics, ACLs, scalers, settings, probes, ports, shutdown.

Each service's topics and consumer groups come from the broker its `create_app` wires (the
same source as its AsyncAPI document), its settings from its `Settings` class.
"""

from __future__ import annotations

import importlib
import os
import re

import pytest
import yaml
from atelier_platform.asyncapi_docs import documented_app
from atelier_platform.kafka_client import KafkaClientSettings
from atelier_platform.runtime import SHUTDOWN_GRACE
from atelier_platform.topics import TopicSettings
from atelier_schemas.topics import ALL, dead_letter
from fastapi import FastAPI
from pydantic_settings import BaseSettings
from support.manifests import ROOT, container, objects

SERVICES = ("registration", "ticketing", "notifications")  # with Kafka topics and a database
DEPLOYED = (*SERVICES, "web")  # and the participant pages


def app_of(service: str) -> FastAPI:
    return documented_app(service)


def consumed(app: FastAPI) -> dict[str, str]:
    """Topic -> consumer group, for every subscriber."""
    return {topic.name: sub.group_id for sub in app.state.broker.subscribers for topic in sub.topics}


def published(app: FastAPI) -> set[str]:
    return {publisher.topic for publisher in app.state.contract.publishers}


def settings_class(service: str) -> type[BaseSettings]:
    return importlib.import_module(f"{service}.config").Settings


def env_names(field_name: str, field, prefix: str) -> set[str]:
    """The environment variables pydantic-settings reads a field from."""
    alias = field.validation_alias
    if alias is not None:
        return {choice.upper() for choice in getattr(alias, "choices", [alias])}
    return {f"{prefix}{field_name}".upper()}


def settings_env(service: str) -> tuple[set[str], set[str]]:
    """(required, known) environment variable names of a service's settings."""
    cls = settings_class(service)
    prefix = cls.model_config.get("env_prefix", "")
    required, known = set(), set()
    for name, field in cls.model_fields.items():
        names = env_names(name, field, prefix)
        known |= names
        if field.is_required():
            required |= names
    return required, known


def provided(docs: list[dict], service: str) -> set[str]:
    """Variables a service's pod gets from its ConfigMap, its Secret (template) and explicit env."""
    names = set(objects(docs, "ConfigMap")[service]["data"])
    secret = objects(docs, "Secret").get(service)
    if secret:
        names |= set(secret.get("stringData", {})) | set(secret.get("data", {}))
    return names | {env["name"] for env in container(objects(docs, "Deployment")[service]).get("env", [])}


def topics_by_name(rendered) -> dict[str, dict]:
    return {doc["spec"]["topicName"]: doc for doc in objects(rendered["production"], "KafkaTopic").values()}


def acl_names(user: dict, resource: str, operation: str) -> set[str]:
    return {
        acl["resource"]["name"]
        for acl in user["spec"]["authorization"]["acls"]
        if acl["resource"]["type"] == resource and operation in acl["operations"]
    }


@pytest.mark.parametrize("service", SERVICES)
def test_every_topic_a_service_uses_has_a_kafka_topic_and_a_dead_letter_topic(rendered, service):
    app = app_of(service)
    topics = topics_by_name(rendered)
    for topic in {*consumed(app), *published(app)}:
        assert topic in topics, f"{service} uses {topic}, which has no KafkaTopic"
        assert dead_letter(topic) in topics, f"{topic} has no KafkaTopic for its dead letters"


def test_every_topic_is_replicated_three_times_with_two_in_sync_and_the_services_retention_and_segments(rendered):
    topics = topics_by_name(rendered)
    assert set(topics) == {*ALL, *(dead_letter(topic) for topic in ALL)}
    settings = TopicSettings()  # what a service creates when a topic is missing
    for name, topic in topics.items():
        spec = topic["spec"]
        assert spec["replicas"] == 3 and spec["partitions"] == settings.partitions, name
        assert spec["config"]["min.insync.replicas"] == 2, name
        assert spec["config"]["retention.ms"] == settings.retention_of(name), name
        assert spec["config"]["segment.ms"] == settings.segment_ms, name  # bounds how long past retention data lives


@pytest.mark.parametrize("service", SERVICES)
def test_a_kafka_user_may_touch_only_its_own_topics_and_group(rendered, service):
    app = app_of(service)
    user = objects(rendered["production"], "KafkaUser")[f"{service}-kafka"]
    assert acl_names(user, "topic", "Read") == set(consumed(app))
    assert acl_names(user, "topic", "Write") == published(app) | {dead_letter(t) for t in consumed(app)}
    assert acl_names(user, "group", "Read") == set(consumed(app).values())


@pytest.mark.parametrize("service", SERVICES)
def test_a_consumer_scales_on_the_lag_of_its_own_topics_within_their_partitions(rendered, service):
    app = app_of(service)
    scaler = objects(rendered["production"], "ScaledObject")[service]
    triggers = scaler["spec"]["triggers"]
    assert {t["metadata"]["topic"] for t in triggers} == set(consumed(app))
    assert {t["metadata"]["consumerGroup"] for t in triggers} == set(consumed(app).values())
    assert all(t["type"] == "kafka" for t in triggers)
    partitions = min(topics_by_name(rendered)[topic]["spec"]["partitions"] for topic in consumed(app))
    assert 1 <= scaler["spec"]["minReplicaCount"] <= scaler["spec"]["maxReplicaCount"] <= partitions
    assert scaler["spec"]["scaleTargetRef"]["name"] == service


@pytest.mark.parametrize("overlay", ["local", "base", "production"])
@pytest.mark.parametrize("service", DEPLOYED)
def test_every_setting_a_service_requires_is_provided_and_every_key_is_one_it_reads(rendered, overlay, service):
    required, known = settings_env(service)
    keys = provided(rendered[overlay], service)
    template = objects(rendered["base"], "Secret").get(service, {}).get("stringData", {})
    if overlay == "production":  # its Secrets come from the secret store, with the keys of the base's template
        keys |= set(template)
    assert required <= keys, f"{service} requires {sorted(required - keys)}"
    assert keys <= known | {"KAFKA_BOOTSTRAP_SERVERS", "LOG_LEVEL"}, f"{service} reads no {sorted(keys - known)}"


@pytest.mark.parametrize("service", SERVICES)
def test_production_connects_as_the_services_kafka_user_over_tls_and_leaves_the_topics_to_strimzi(
    rendered, service, monkeypatch
):
    docs = rendered["production"]
    user = objects(docs, "KafkaUser")[f"{service}-kafka"]
    deployment = objects(docs, "Deployment")[service]
    config = objects(docs, "ConfigMap")[service]["data"]
    env = {e["name"]: e for e in container(deployment)["env"]}
    assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": user["metadata"]["name"],
        "key": "password",
    }
    for name in [n for n in os.environ if n.startswith("KAFKA_")]:
        monkeypatch.delenv(name)
    for name, value in {**config, "KAFKA_SASL_PASSWORD": "from-the-users-secret"}.items():
        monkeypatch.setenv(name, value)
    settings = KafkaClientSettings()  # what the pod reads: valid, and as Strimzi expects it
    assert settings.kafka_security_protocol == "SASL_SSL" and config["KAFKA_BOOTSTRAP_SERVERS"].endswith(":9093")
    assert settings.kafka_sasl_username == user["metadata"]["name"]
    assert settings.kafka_sasl_mechanism.lower() == user["spec"]["authentication"]["type"]
    assert settings.kafka_create_topics is False
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container(deployment)["volumeMounts"]}
    ca = settings.kafka_ssl_cafile
    assert ca is not None and str(ca.parent) in mounts
    secret = volumes[mounts[str(ca.parent)]]["secret"]
    assert secret["secretName"] == "atelier-cluster-ca-cert"
    assert {"key": "ca.crt", "path": ca.name} in secret["items"]


@pytest.mark.parametrize("service", SERVICES)
def test_keda_reads_the_lag_as_the_services_kafka_user(rendered, service):
    docs = rendered["production"]
    authentications = objects(docs, "TriggerAuthentication")
    for trigger in objects(docs, "ScaledObject")[service]["spec"]["triggers"]:
        assert trigger["metadata"]["sasl"] == "scram_sha512" and trigger["metadata"]["tls"] == "enable"
        auth = authentications[trigger["authenticationRef"]["name"]]["spec"]
        secrets = {ref["parameter"]: (ref["name"], ref["key"]) for ref in auth["secretTargetRef"]}
        assert secrets == {"password": (f"{service}-kafka", "password"), "ca": ("atelier-cluster-ca-cert", "ca.crt")}
        assert auth["env"] == [{"parameter": "username", "name": "KAFKA_SASL_USERNAME", "containerName": service}]


@pytest.mark.parametrize("service", SERVICES)
def test_production_takes_the_database_url_from_the_cloudnative_pg_secret(rendered, service):
    docs = rendered["production"]
    assert f"{service}-db" in objects(docs, "Cluster")
    for workload in (objects(docs, "Deployment")[service], objects(docs, "Job")[f"{service}-migrate"]):
        env = {e["name"]: e for e in container(workload).get("env", [])}
        ref = env[f"{service.upper()}_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": f"{service}-db-app", "key": "uri"}


@pytest.mark.parametrize("service", DEPLOYED)
def test_probes_ask_paths_the_app_serves_on_the_port_it_listens_on(rendered, service):
    deployment = objects(rendered["production"], "Deployment")[service]
    app_paths = {getattr(route, "path", None) for route in app_of(service).routes}
    ports = {port["name"]: port["containerPort"] for port in container(deployment)["ports"]}
    assert ports["http"] == settings_class(service).model_fields["port"].default
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = container(deployment)[probe]["httpGet"]
        assert get["path"] == path and path in app_paths
        assert get["port"] in ports
    service_object = objects(rendered["production"], "Service")[service]
    assert service_object["spec"]["ports"][0]["targetPort"] == "http"


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_run_once_as_a_job_and_not_when_a_replica_starts(rendered, service):
    docs = rendered["production"]
    job = objects(docs, "Job")[f"{service}-migrate"]
    assert container(job)["args"] == ["python", "-m", service, "migrate"]
    config = objects(docs, "ConfigMap")[service]["data"]
    assert config.get(f"{service.upper()}_MIGRATE_ON_START", "false") == "false"
    assert settings_class(service).model_fields["migrate_on_start"].default is False


@pytest.mark.parametrize("service", DEPLOYED)
def test_a_pod_is_given_the_time_its_graceful_shutdown_takes(rendered, service):
    deployment = objects(rendered["production"], "Deployment")[service]
    pod = deployment["spec"]["template"]["spec"]
    pre_stop = int(container(deployment)["lifecycle"]["preStop"]["exec"]["command"][1])
    assert pre_stop + SHUTDOWN_GRACE <= pod["terminationGracePeriodSeconds"] == 25
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())["services"][service]
    assert compose["stop_grace_period"] == "25s"


@pytest.mark.parametrize("service", DEPLOYED)
def test_pods_run_as_non_root_on_a_read_only_root_filesystem(rendered, service):
    pod = objects(rendered["production"], "Deployment")[service]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    security = pod["containers"][0]["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert {"name": "tmp", "mountPath": "/tmp"} in pod["containers"][0]["volumeMounts"]
    dockerfile = (ROOT / "services" / service / "Dockerfile").read_text()
    assert re.search(r"^USER 10001", dockerfile, re.M) and pod["securityContext"]["runAsUser"] == 10001


def test_every_deployment_has_a_disruption_budget(rendered):
    budgets = objects(rendered["production"], "PodDisruptionBudget")
    for name, deployment in objects(rendered["production"], "Deployment").items():
        assert budgets[name]["spec"]["selector"] == deployment["spec"]["selector"]
