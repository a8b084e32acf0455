"""Launch templates (workers): the secure template passes, then one change is caught, in every id mode."""

from __future__ import annotations

import pytest

from policies.network_guard import aws_types as aws
from tests.policy_helpers import IdMode, Ref, findings, secure_stack

RULE = "launch-template-private-imdsv2"
MODES = list(IdMode)
LABEL = "launch template 'workers'"


def _with_workers():
    builder = secure_stack()
    builder.add(aws.SECURITY_GROUP, "workers-sg", vpcId=Ref("app-vpc"))
    builder.add(
        aws.SECURITY_GROUP_INGRESS_RULE,
        "workers-from-lambda",
        securityGroupId=Ref("workers-sg"),
        referencedSecurityGroupId=Ref("app-lambda-sg"),
        ipProtocol="tcp",
        fromPort=8080,
        toPort=8080,
    )
    builder.add(
        aws.LAUNCH_TEMPLATE,
        "workers",
        networkInterfaces=[
            {"deviceIndex": 0, "associatePublicIpAddress": "false", "securityGroups": [Ref("workers-sg")]}
        ],
        metadataOptions={"httpTokens": "required", "httpEndpoint": "enabled"},
    )
    return builder


def _set_interface(builder, **changes) -> None:
    interface = {"deviceIndex": 0, "associatePublicIpAddress": "false", "securityGroups": [Ref("workers-sg")]}
    builder.set("workers", networkInterfaces=[interface | changes])


@pytest.mark.parametrize("mode", MODES)
def test_a_public_address_on_the_workers_is_caught(mode: IdMode) -> None:
    builder = _with_workers()
    assert findings(RULE, builder, mode) == []
    _set_interface(builder, associatePublicIpAddress="true")
    ((urn, message),) = findings(RULE, builder, mode)
    assert urn == builder.urn("workers")
    assert message.startswith(f"{LABEL}: it gives every instance launched from it a public IP address.")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("metadata", [{"httpTokens": "optional"}, None])
def test_imdsv1_on_the_workers_is_caught(mode: IdMode, metadata) -> None:
    builder = _with_workers()
    if metadata is None:
        builder.unset("workers", "metadataOptions")
    else:
        builder.set("workers", metadataOptions=metadata)
    ((urn, message),) = findings(RULE, builder, mode)
    assert urn == builder.urn("workers") and "so its instances answer IMDSv1" in message


@pytest.mark.parametrize("mode", MODES)
def test_a_worker_group_open_to_the_internet_is_caught(mode: IdMode) -> None:
    builder = _with_workers()
    builder.add(
        aws.SECURITY_GROUP_INGRESS_RULE,
        "workers-from-anywhere",
        securityGroupId=Ref("workers-sg"),
        ipProtocol="tcp",
        fromPort=8080,
        toPort=8080,
        cidrIpv4="0.0.0.0/0",
    )
    ((urn, message),) = findings(RULE, builder, mode)
    assert urn == builder.urn("workers")
    assert "security group 'workers-sg' admits the whole Internet (tcp 8080)" in message, message
