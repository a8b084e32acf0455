"""The site-to-site VPN: tunnel proposals, what the device admin gets, and addresses AWS can never reach."""

from __future__ import annotations

import pytest

from preview.engine import run_stack
from tests.stack_queries import DEPLOYABLE_VPN, the_one
from zappa_vpc.plan.options import TunnelCrypto, VpnOptions

CONNECTION = "aws:ec2/vpnConnection:VpnConnection"
# RFC 8247 section 2.4 and AWS's own weakest defaults: none of these may be offered.
WEAK = {"ikev1", "SHA1", "AES128", "AES128-GCM-16", 2, 5, 22, 23, 24}


def test_both_tunnels_offer_ikev2_aes256_sha2_and_strong_dh_groups_only(stack_run):
    connection = the_one(stack_run("hybrid").of_type(CONNECTION), "VPN connection")
    props = connection.properties
    for tunnel in ("tunnel1", "tunnel2"):
        assert props[f"{tunnel}IkeVersions"] == ["ikev2"], connection.urn
        for phase in ("phase1", "phase2"):
            assert set(props[f"{tunnel}{phase.capitalize()}EncryptionAlgorithms"]) == {
                "AES256",
                "AES256-GCM-16",
            }
            assert set(props[f"{tunnel}{phase.capitalize()}IntegrityAlgorithms"]) == {
                "SHA2-256",
                "SHA2-384",
                "SHA2-512",
            }
            groups = {int(g) for g in props[f"{tunnel}{phase.capitalize()}DhGroupNumbers"]}
            assert groups and min(groups) >= 14 and not groups & WEAK, groups
        offered = {v for key, values in props.items() if key.startswith(tunnel) for v in values}
        assert not offered & WEAK, offered & WEAK


def test_the_device_admin_gets_the_tunnel_addresses_and_the_keys_secret(stack_run):
    run = stack_run("hybrid", DEPLOYABLE_VPN, preview=False)
    assert run.error is None, run.error
    assert run.outputs["vpn_tunnel_addresses"] == ["198.51.100.21", "198.51.100.22"]
    assert run.outputs["vpn_preshared_key_secret_arn"].startswith("arn:aws:secretsmanager:us-east-1:")
    connection = the_one(run.of_type(CONNECTION), "VPN connection")
    assert connection.properties["presharedKeyStorage"] == "SecretsManager"
    assert not any("presharedKey" in key and key != "presharedKeyStorage" for key in connection.properties)


@pytest.mark.parametrize(
    "address",
    [
        "203.0.113.10",  # RFC 5737 documentation
        "198.51.100.1",
        "192.0.2.1",
        "100.64.0.1",  # RFC 6598 shared address space (carrier-grade NAT)
        "10.1.2.3",
        "192.168.0.1",
        "198.18.0.1",  # RFC 2544 benchmarking
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
    ],
)
def test_a_customer_gateway_aws_cannot_reach_is_refused(address):
    problems = VpnOptions(customer_gateway_ip=address, on_premises_cidrs=("172.16.0.0/12",)).problems()
    assert [p.field for p in problems] == ["customer_gateway_ip"], problems
    run = run_stack(
        "hybrid",
        config_overrides={
            "zappa-vpc:vpnCustomerGatewayIp": address,
            "zappa-vpc:vpnPlaceholderGatewayIp": None,
        },
    )
    assert f"zappa-vpc:vpnCustomerGatewayIp = {address}: is not a public Internet address" in run.error
    assert run.resources == []


def test_the_sample_stacks_preview_but_refuse_to_deploy():
    for stack in ("hybrid", "internal"):
        assert run_stack(stack).error is None
        refused = run_stack(stack, preview=False)
        assert (
            "zappa-vpc:vpnPlaceholderGatewayIp = true: the customer gateway 203.0.113.10 is a placeholder"
            in (refused.error or "")
        ), refused.error
        assert refused.resources == [], [r.urn for r in refused.resources]


def test_the_placeholder_flag_on_a_public_address_is_refused():
    problems = VpnOptions("192.0.32.10", ("172.16.0.0/12",), placeholder_gateway_ip=True).problems()
    assert [(p.field, p.reason.split(";")[0]) for p in problems] == [
        ("placeholder_gateway_ip", "192.0.32.10 is a public address, not a placeholder")
    ]


def test_tunnel_proposals_the_provider_refuses_are_refused_first():
    crypto = TunnelCrypto(ike_versions=("ikev3",), dh_group_numbers=(13,), integrity_algorithms=())
    fields = [p.field for p in VpnOptions("192.0.32.10", ("172.16.0.0/12",), tunnel_crypto=crypto).problems()]
    assert fields == [
        "tunnel_crypto.ike_versions[0]",
        "tunnel_crypto.integrity_algorithms",
        "tunnel_crypto.dh_group_numbers[0]",
    ]
