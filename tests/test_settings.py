"""Bad stack config: all problems at once, each naming the key, the value and the fix; nothing registered."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from preview.engine import PROJECT_DIR, StackConfigError, run_stack
from zappa_vpc.plan.options import InstanceTypeOffer
from zappa_vpc.plan.settings import CONFIG_SCHEMA, SettingsError, parse_settings


def _offered_everywhere(instance_type: str, zones) -> InstanceTypeOffer:
    return InstanceTypeOffer(tuple(zones), ("arm64",))


BAD_SETTINGS = [
    (
        {"pattern": "hub-and-spoke"},
        "zappa-vpc:pattern = hub-and-spoke: use one of: isolated, single, public-private",
    ),
    ({"natStrategy": "two"}, "zappa-vpc:natStrategy = two: use one of: auto, none, single, one-per-az"),
    ({"vpcCidr": "10.0.0.0/33"}, "zappa-vpc:vpcCidr = 10.0.0.0/33"),
    ({"vpcCidr": "10.0.0.1/16"}, "zappa-vpc:vpcCidr = 10.0.0.1/16"),
    ({"azCount": 1}, "zappa-vpc:azCount = 1: "),
    ({"azCount": 7}, "zappa-vpc:azCount = 7: us-east-1 has 6 available zones"),
    (
        {"pattern": "isolated", "natStrategy": "single"},
        "zappa-vpc:natStrategy = single: the isolated pattern has no public tier",
    ),
    (
        {"bastion": "ssh", "bastionSshAllowlist": ["0.0.0.0/0"]},
        "zappa-vpc:bastionSshAllowlist[0] = 0.0.0.0/0: opens SSH to the whole Internet",
    ),
    (
        {"bastion": "ssh", "bastionSshAllowlist": ["::/0"]},
        "zappa-vpc:bastionSshAllowlist[0] = ::/0: opens SSH to the whole Internet",
    ),
    ({"bastion": "ssh"}, "zappa-vpc:bastionSshAllowlist = []: SSH access needs at least one allowed CIDR"),
    (
        {"pattern": "hybrid", "vpnOnPremisesCidrs": ["172.16.0.0/12"]},
        'zappa-vpc:vpnCustomerGatewayIp = "": required: the public IPv4 address of your VPN device',
    ),
    (
        {
            "pattern": "hybrid",
            "vpnCustomerGatewayIp": "vpn.example.com",
            "vpnOnPremisesCidrs": ["172.16.0.0/12"],
        },
        "zappa-vpc:vpnCustomerGatewayIp = vpn.example.com: must be the IPv4 address of your VPN device",
    ),
    (
        {"pattern": "hybrid", "vpnCustomerGatewayIp": "2001:db8::1", "vpnOnPremisesCidrs": ["172.16.0.0/12"]},
        "zappa-vpc:vpnCustomerGatewayIp = 2001:db8::1: must be the IPv4 address",
    ),
    (
        {"pattern": "hybrid", "vpnCustomerGatewayIp": "203.0.113.10", "vpnBgpAsn": 4294967295},
        "zappa-vpc:vpnBgpAsn = 4294967295: a BGP ASN is a number from 1 to 4294967294",
    ),
    (
        {"pattern": "hybrid", "vpnCustomerGatewayIp": "203.0.113.10", "vpnOnPremisesCidrs": ["10.10.0.0/16"]},
        "zappa-vpc:vpnOnPremisesCidrs[0] = 10.10.0.0/16: overlaps the VPC 10.10.0.0/16",
    ),
    ({"database": "oracle"}, "zappa-vpc:database = oracle: use one of: auto, none, postgres, mysql"),
    ({"databaseStorageGb": 10}, "zappa-vpc:databaseStorageGb = 10: gp3 storage is 20 to 65536 GiB"),
    (
        {"interfaceEndpoints": ["sqs", "s3-but-private"]},
        "zappa-vpc:interfaceEndpoints[1] = s3-but-private: not a known service",
    ),
    (
        {"database": "none", "databaseProxy": True},
        "zappa-vpc:databaseProxy = True: RDS Proxy needs a database",
    ),
    (
        {"pattern": "single", "database": "postgres"},
        "zappa-vpc:database = postgres: the single pattern has no private data tier",
    ),
    ({"azCount": "two"}, "zappa-vpc:azCount = two: expected a whole number"),
    (
        {"privateApiCidrs": ["10.20.0.0/16"]},
        'zappa-vpc:privateApiCidrs = ["10.20.0.0/16"]: the public-private',
    ),
    (
        {"interfaceEndpoints": ["execute-api"]},
        "zappa-vpc:interfaceEndpoints[0] = execute-api: with private DNS it would send every API Gateway",
    ),
    (
        {
            "pattern": "hybrid",
            "vpnCustomerGatewayIp": "203.0.113.10",
            "vpnOnPremisesCidrs": ["172.16.0.0/12"],
            "privateApiCidrs": ["10.10.5.0/24"],
        },
        "zappa-vpc:privateApiCidrs[0] = 10.10.5.0/24: overlaps the VPC 10.10.0.0/16",
    ),
    (
        {"databaseAdminCidrs": ["10.20.30.0/24"]},
        'zappa-vpc:databaseAdminCidrs = ["10.20.30.0/24"]: the public-private pattern has no VPN',
    ),
    (
        {
            "pattern": "hybrid",
            "vpnCustomerGatewayIp": "203.0.113.10",
            "vpnOnPremisesCidrs": ["172.16.0.0/12"],
            "databaseAdminCidrs": ["192.168.1.0/24"],
        },
        "zappa-vpc:databaseAdminCidrs[0] = 192.168.1.0/24: is not routed over the VPN",
    ),
    (
        {
            "pattern": "hybrid",
            "vpnCustomerGatewayIp": "203.0.113.10",
            "vpnOnPremisesCidrs": ["172.16.0.0/12"],
            "databaseAdminCidrs": ["0.0.0.0/0"],
        },
        "zappa-vpc:databaseAdminCidrs[0] = 0.0.0.0/0: would open the database to every network",
    ),
    (
        {"database": "mysql", "databaseEngineVersion": "8"},
        "zappa-vpc:databaseEngineVersion = 8: a mysql version such as 8.0 or 8.0.39",
    ),
]


@pytest.mark.parametrize(
    ("changes", "message"), BAD_SETTINGS, ids=[m.split(":")[1][:40] for _, m in BAD_SETTINGS]
)
def test_bad_setting_is_named_with_its_fix_and_nothing_is_registered(changes, message):
    run = run_stack("dev", config_overrides={f"zappa-vpc:{k}": v for k, v in changes.items()})
    assert run.error is not None and message in run.error, run.error
    assert [r.type for r in run.records] == ["pulumi:pulumi:Stack"]


def test_all_problems_are_reported_together():
    run = run_stack(
        "dev",
        config_overrides={
            "zappa-vpc:azCount": 1,
            "zappa-vpc:natStrategy": "two",
            "zappa-vpc:databaseStorageGb": 10,
        },
    )
    assert run.error.startswith("invalid stack configuration:")
    for key in ("azCount", "natStrategy", "databaseStorageGb"):
        assert f"zappa-vpc:{key} = " in run.error


def test_a_bad_value_read_in_several_places_is_reported_once():
    run = run_stack("dev", config_overrides={"zappa-vpc:azSlots": "four"})
    assert run.error.splitlines()[1:] == ["  - zappa-vpc:azSlots = four: expected a whole number"]


def test_a_failed_address_plan_does_not_hide_the_pattern_checks():
    run = run_stack(
        "internal",
        config_overrides={
            "zappa-vpc:azCount": 1,
            "zappa-vpc:natStrategy": "single",
            "zappa-vpc:bastion": "ssm",
        },
    )
    assert [line.split(" = ")[0] for line in run.error.splitlines()[1:]] == [
        "  - zappa-vpc:azCount",
        "  - zappa-vpc:natStrategy",
        "  - zappa-vpc:bastion",
    ], run.error


def test_too_small_a_vpc_says_how_much_room_the_tiers_need():
    run = run_stack("dev", config_overrides={"zappa-vpc:vpcCidr": "10.0.0.0/18"})
    assert "zappa-vpc:vpcCidr = 10.0.0.0/18: " in run.error and "/17 or larger" in run.error, run.error


def test_an_undeclared_key_is_refused_like_the_cli_does():
    with pytest.raises(StackConfigError, match="zappa-vpc:natStratgy is not a setting of zappa-vpc"):
        run_stack("dev", config_overrides={"zappa-vpc:natStratgy": "single"})


def test_missing_region_is_named():
    with pytest.raises(SettingsError, match="aws:region is not set"):
        parse_settings(
            {},
            stack="x",
            region=None,
            region_zones=list,
            instance_type_offer=_offered_everywhere,
            deploying=False,
        )


def test_pulumi_yaml_declares_every_setting_with_its_type_default_and_description():
    declared = yaml.safe_load(Path(PROJECT_DIR, "Pulumi.yaml").read_text())["config"]
    assert list(declared) == [key.name for key in CONFIG_SCHEMA]
    for key in CONFIG_SCHEMA:
        entry = declared[key.name]
        assert (entry["type"], entry["default"], entry["description"]) == (
            key.type,
            key.default,
            key.description,
        )


def test_defaults_build_the_public_private_pattern_in_two_azs():
    settings = parse_settings(
        {},
        stack="x",
        region="eu-west-1",
        region_zones=lambda: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
        instance_type_offer=_offered_everywhere,
        deploying=False,
    )
    assert settings.network.pattern.value == "public-private"
    assert settings.network.availability_zones == ("eu-west-1a", "eu-west-1b")
    assert settings.network.nat.value == "single" and settings.network.bastion.access.value == "ssm"
    assert settings.access.database.engine.value == "postgres"
