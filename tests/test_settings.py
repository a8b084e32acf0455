"""Bad stack config: all problems at once, each naming the key, the value and the fix; nothing registered."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest
import yaml

from preview import engine
from preview.engine import PROJECT_DIR, run_stack
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
    (
        {"bastion": "ssh"},
        "zappa-vpc:bastionSshAllowlist = []: SSH to the bastion needs at least one allowed CIDR",
    ),
    (
        {"bastion": "ssh", "bastionSshAllowlist": ["0.0.0.0/1", "128.0.0.0/1"]},
        'zappa-vpc:bastionSshAllowlist = ["0.0.0.0/1", "128.0.0.0/1"]: together these cover 0.0.0.0/0, '
        "so this opens SSH to the whole Internet",
    ),
    (
        {"bastion": "ssh", "bastionSshAllowlist": ["203.0.113.0/24", "::/1", "8000::/1"]},
        "together these cover ::/0, so this opens SSH to the whole Internet",
    ),
    (
        {"bastion": "none", "bastionInstanceType": "t4g.small"},
        "zappa-vpc:bastionInstanceType = t4g.small: there is no bastion; set zappa-vpc:bastion: ssm, or "
        "remove it",
    ),
    (
        {"pattern": "single", "bastionSshAllowlist": ["203.0.113.0/24"]},
        'zappa-vpc:bastionSshAllowlist = ["203.0.113.0/24"]: there is no bastion in this pattern by default',
    ),
    (
        {"vpnOnPremisesCidrs": ["172.16.0.0/12"], "vpnBgpAsn": 65010},
        'zappa-vpc:vpnOnPremisesCidrs = ["172.16.0.0/12"]: the public-private pattern has no VPN; remove it',
    ),
    ({"vpnBgpAsn": 65010}, "zappa-vpc:vpnBgpAsn = 65010: the public-private pattern has no VPN"),
    (
        {"flowLogRetentionDays": 30},
        "zappa-vpc:flowLogRetentionDays = 30: flow logs are off (zappa-vpc:flowLogs: false); set "
        "zappa-vpc:flowLogs: true, or remove it",
    ),
    (
        {"privateSubnetAddresses": 1000, "privateSubnetPrefix": 22},
        "zappa-vpc:privateSubnetPrefix = 22: zappa-vpc:privateSubnetAddresses sizes the private subnets too; "
        "set one of the two",
    ),
    (
        {"availabilityZones": ["eu-west-1a", "eu-west-1b"]},
        "zappa-vpc:availabilityZones[0] = eu-west-1a: not an available zone of us-east-1; use some of: "
        "us-east-1a,",
    ),
    (
        {"availabilityZones": ["us-east-1a", "us-east-1b"], "azCount": 3},
        "zappa-vpc:azCount = 3: zappa-vpc:availabilityZones lists 2 zones; remove azCount",
    ),
    (
        {"natStrategie": "single"},
        "zappa-vpc:natStrategie = single: not a setting of zappa-vpc; did you mean zappa-vpc:natStrategy?",
    ),
    ({"AZCount": 3}, "zappa-vpc:AZCount = 3: not a setting of zappa-vpc; did you mean zappa-vpc:azCount?"),
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
        "zappa-vpc:databaseProxy = true: there is no database (zappa-vpc:database: none); set "
        "zappa-vpc:database: postgres or mysql, or remove it",
    ),
    (
        {"database": "none", "databaseMultiAz": True},
        "zappa-vpc:databaseMultiAz = true: there is no database (zappa-vpc:database: none)",
    ),
    (
        {"pattern": "single", "databaseEngineVersion": "16.4"},
        "zappa-vpc:databaseEngineVersion = 16.4: the single pattern has no database by default",
    ),
    (
        {"database": "mysql", "databaseEngineVersion": "16.4"},
        "zappa-vpc:databaseEngineVersion = 16.4: is a postgres version, but the engine is mysql; give a "
        "mysql version such as 8.4 or 8.4.3, or change the engine",
    ),
    (
        {"databaseEngineVersion": "8.0.39"},
        "zappa-vpc:databaseEngineVersion = 8.0.39: is a mysql version, but the engine is postgres",
    ),
    (
        {"pattern": "single", "database": "postgres"},
        "zappa-vpc:database = postgres: the single pattern has no private data tier",
    ),
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
        {"database": "mysql", "databaseEngineVersion": 8.0},
        "zappa-vpc:databaseEngineVersion = 8: a mysql version such as 8.4 or 8.4.3, or empty for the pinned "
        "major; quote it ('8.0'): unquoted, YAML reads 8.0 as the number 8",
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


def _parse(changes: dict[str, str], zones: tuple[str, ...] = ("us-east-1a", "us-east-1b", "us-east-1c")):
    return parse_settings(changes, stack="x", region=zones[0][:-1], region_zones=lambda: list(zones))


def test_a_bad_value_read_in_several_places_is_reported_once():
    # The CLI refuses azSlots: four first; the program checks too (`pulumi preview --skip-config-validation`).
    with pytest.raises(SettingsError) as caught:
        _parse({"azSlots": "four"})
    assert caught.value.problems == ["zappa-vpc:azSlots = four: expected a whole number"]


def test_the_program_checks_types_itself_too():
    with pytest.raises(SettingsError) as caught:
        _parse({"azCount": "two", "flowLogs": "yes"})
    assert caught.value.problems == [
        "zappa-vpc:azCount = two: expected a whole number",
        "zappa-vpc:flowLogs = yes: expected true or false",
    ]


def test_more_zones_than_the_region_has_are_refused():
    with pytest.raises(SettingsError) as caught:
        _parse({"azCount": "4"}, zones=("eu-west-3a", "eu-west-3b", "eu-west-3c"))
    assert caught.value.problems == [
        "zappa-vpc:azCount = 4: eu-west-3 has 3 available zones (eu-west-3a, eu-west-3b, eu-west-3c); "
        "use at most 3"
    ]


def test_listed_zones_must_be_the_regions_available_ones():
    with pytest.raises(SettingsError) as caught:
        _parse({"availabilityZones": '["us-east-1a", "us-east-1e"]'}, zones=("us-east-1a", "us-east-1b"))
    assert caught.value.problems == [
        "zappa-vpc:availabilityZones[1] = us-east-1e: not an available zone of us-east-1; use some of: "
        "us-east-1a, us-east-1b"
    ]


def test_listed_zones_decide_the_count_when_az_count_is_left_at_its_default():
    settings = _parse({"availabilityZones": '["us-east-1c", "us-east-1a", "us-east-1b"]', "azCount": "2"})
    assert settings.network.availability_zones == ("us-east-1c", "us-east-1a", "us-east-1b")


def test_an_unknown_key_does_not_hide_the_other_problems():
    with pytest.raises(SettingsError) as caught:
        _parse({"natStrategie": "single", "azCount": "1", "database": "oracle"})
    assert [problem.split(" = ")[0] for problem in caught.value.problems] == [
        "zappa-vpc:natStrategie",
        "zappa-vpc:azCount",
        "zappa-vpc:database",
    ]


def test_a_key_nothing_resembles_is_refused_without_a_guess():
    with pytest.raises(SettingsError) as caught:
        _parse({"colour": "blue"})
    assert caught.value.problems == [
        "zappa-vpc:colour = blue: not a setting of zappa-vpc; remove it (Pulumi.yaml lists every setting)"
    ]


def test_messages_name_settings_as_the_stack_file_does():
    with pytest.raises(SettingsError) as caught:
        _parse({"azCount": "3", "azSlots": "2"})
    text = str(caught.value)
    assert "zappa-vpc:azSlots" in text and "az_slots" not in text and "az_count" not in text, text


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


def test_a_misspelt_key_is_refused_by_the_program_from_only_what_the_cli_passes(monkeypatch):
    # No help from the offline engine: the config is what the CLI hands the language host (declared
    # defaults, the stack's keys, the typo among them), and the program finds it in PULUMI_CONFIG.
    declared = yaml.safe_load(Path(PROJECT_DIR, "Pulumi.yaml").read_text())["config"]
    passed = {
        f"zappa-vpc:{key}": json.dumps(entry["default"], separators=(",", ":"))
        if not isinstance(entry["default"], str)
        else entry["default"]
        for key, entry in declared.items()
    }
    passed |= {"aws:region": "us-east-1", "zappa-vpc:natStrategie": "single", "zappa-vpc:azCount": "1"}
    monkeypatch.setattr(engine, "load_stack_config", lambda *args, **kwargs: ("zappa-vpc", passed))

    run = run_stack("dev")

    problems = run.error.splitlines()[1:]
    assert problems[0] == (
        "  - zappa-vpc:natStrategie = single: not a setting of zappa-vpc; did you mean zappa-vpc:natStrategy?"
    )
    assert problems[1].startswith("  - zappa-vpc:azCount = 1: ") and len(problems) == 2, run.error
    assert [r.type for r in run.records] == ["pulumi:pulumi:Stack"]
    assert pulumi.runtime.config.CONFIG.get() == {}, "the program read PULUMI_CONFIG, as under the CLI"


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
