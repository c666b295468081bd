"""Every overlay renders, and its core Kubernetes objects are valid against the API's schemas (offline)."""

from __future__ import annotations

import kubernetes_validate
import pytest
from support.manifests import OVERLAYS, objects

KUBERNETES_VERSION = "1.33.0"
CORE_GROUPS = ("v1", "apps/v1", "batch/v1", "policy/v1")
OPERATOR_KINDS = {"KafkaTopic", "KafkaUser", "Cluster", "ScaledObject", "TriggerAuthentication"}
DEPLOYED = {"registration", "ticketing", "notifications", "web"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_renders_the_three_services_and_the_participant_pages(rendered, overlay):
    docs = rendered[overlay]
    assert set(objects(docs, "Deployment")) == DEPLOYED
    assert set(objects(docs, "ConfigMap")) == DEPLOYED
    assert set(objects(docs, "Service")) == DEPLOYED


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_core_objects_are_valid_kubernetes(rendered, overlay):
    core = [doc for doc in rendered[overlay] if doc["apiVersion"] in CORE_GROUPS]
    assert core
    for doc in core:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_a_misspelt_field_is_refused_by_the_validation(rendered):
    deployment = dict(objects(rendered["production"], "Deployment")["ticketing"])
    deployment["spec"] = {**deployment["spec"], "replica": 2}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_the_local_overlay_holds_only_what_podman_kube_play_runs(rendered):
    kinds = {doc["kind"] for doc in rendered["local"]}
    assert not kinds & (OPERATOR_KINDS | {"Job"})
    for deployment in objects(rendered["local"], "Deployment").values():
        assert deployment["spec"]["template"]["spec"]["hostNetwork"] is True


def test_production_carries_the_operators_objects_and_no_secret_values(rendered):
    kinds = {doc["kind"] for doc in rendered["production"]}
    assert OPERATOR_KINDS | {"Job", "PodDisruptionBudget", "Service"} <= kinds
    assert "Secret" not in kinds  # created from the secret store, never overwritten by an apply


def test_kafka_topics_use_the_strimzi_v1_api(rendered):
    for doc in rendered["production"]:
        if doc["kind"] in {"KafkaTopic", "KafkaUser"}:
            assert doc["apiVersion"] == "kafka.strimzi.io/v1"
            assert doc["metadata"]["labels"]["strimzi.io/cluster"] == "atelier"
