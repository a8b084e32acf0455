"""What a security group rule admits: every source form, protocol and port spelling, and the union of
rules. Each case: the secure network passes, then one change is caught, in every id mode."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from policies.network_guard import aws_types as aws
from policies.network_guard.admission import INTERNET, admission, is_world_cidr, spans_internet
from policies.network_guard.graph import StackIndex, Truth
from preview.model import UNKNOWN
from tests.policy_helpers import (
    RULES_BY_NAME,
    IdMode,
    Ref,
    StackBuilder,
    findings,
    run_stack_rule,
    secure_stack,
    stack_nodes,
)

MODES = list(IdMode)
SSH_RULE = "no-ssh-rdp-from-internet"
DB_RULE = "db-security-group-no-internet-ingress"


def index_of(builder: StackBuilder, mode: IdMode) -> StackIndex:
    return StackIndex(stack_nodes(builder.records(mode)))


def problems(rule: str, builder: StackBuilder, mode: IdMode) -> list[tuple[str, str]]:
    """(resource name, message up to its fix) of what the rule reports."""
    return [
        (urn.rsplit("::", 1)[1], message.split(". Fix")[0]) for urn, message in findings(rule, builder, mode)
    ]


def add_ingress(builder: StackBuilder, name: str, group: str = "app-lambda-sg", **props: Any) -> None:
    props = {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, **props}
    builder.add(aws.SECURITY_GROUP_INGRESS_RULE, name, securityGroupId=Ref(group), **props)


# --- addresses -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cidr", "world"),
    [
        ("0.0.0.0/0", True),
        ("::/0", True),
        ("0::0/0", True),
        (" 0.0.0.0/0 ", True),
        ("10.0.0.0/8", False),
        ("0.0.0.0/1", False),
        ("nonsense", False),
    ],
)
def test_world_cidr_in_any_spelling(cidr: str, world: bool) -> None:
    assert is_world_cidr(cidr) is world


def test_the_internet_is_every_globally_reachable_address() -> None:
    # Pinned against Python's copy of the IANA special-purpose registries: every IPv4 Internet block
    # starts and ends on globally reachable addresses, and no reserved address is in the Internet.
    for block in INTERNET[4]:
        assert block.network_address.is_global and block.broadcast_address.is_global, block
    reserved = ("10.1.2.3", "172.31.0.1", "192.168.0.1", "100.64.0.1", "169.254.169.254", "224.0.0.1")
    for text in (*reserved, "255.255.255.255", "fd00::1", "fe80::1", "2001:db8::1", "::1"):
        address = ipaddress.ip_address(text)
        assert not any(address in block for block in INTERNET[address.version]), text
    for text in ("8.8.8.8", "52.95.110.1", "2600:1f18::1"):
        address = ipaddress.ip_address(text)
        assert any(address in block for block in INTERNET[address.version]), text


@pytest.mark.parametrize(
    ("cidrs", "spans"),
    [
        (["0.0.0.0/1", "128.0.0.0/1"], True),
        (["0.0.0.0/1", "128.0.0.0/2"], False),
        (["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/2"], True),
        ([str(block) for block in INTERNET[4]], True),
        ([str(block) for block in INTERNET[4][1:]], False),
        (["::/1"], True),
        (["2000::/4", "3000::/4"], True),
        (["2000::/4"], False),
    ],
)
def test_rules_together_span_the_internet_when_their_ranges_cover_it(cidrs: list[str], spans: bool) -> None:
    assert spans_internet([ipaddress.ip_network(cidr) for cidr in cidrs]) is spans


# --- sources ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_ingress_reaches_a_group_inline_and_through_both_rule_resources(mode: IdMode) -> None:
    builder = secure_stack()
    builder.set(
        "app-db-sg",
        ingress=[{"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": ["10.0.0.0/16"]}],
    )
    builder.add(
        aws.SECURITY_GROUP_RULE,
        "rule",
        type="ingress",
        securityGroupId=Ref("app-db-sg"),
        protocol="-1",
        fromPort=0,
        toPort=0,
        ipv6CidrBlocks=["::/0"],
    )
    ingress = admission(index_of(builder, mode)).ingress_of(builder.urn("app-db-sg"))
    assert {(item.holder.name, item.protocol, item.ports, item.world.truth) for item in ingress} == {
        ("app-db-sg", "tcp", (5432, 5432), Truth.NO),
        ("app-db-from-lambda", "tcp", (5432, 5432), Truth.NO),
        ("rule", "all", (0, 65535), Truth.YES),
    }


def test_unknown_cidr_from_the_vpc_is_internal_but_from_elsewhere_is_unknown() -> None:
    builder = secure_stack()
    for name, source in (("from-vpc", Ref("app-vpc")), ("from-eip", Ref("app-nat-a-eip"))):
        add_ingress(builder, name, "app-db-sg", fromPort=5432, toPort=5432, cidrIpv4=source)
    index = index_of(builder, IdMode.UNKNOWN)
    verdicts = {
        item.holder.name: item.world.truth for item in admission(index).ingress_of(builder.urn("app-db-sg"))
    }
    assert verdicts == {"app-db-from-lambda": Truth.NO, "from-vpc": Truth.NO, "from-eip": Truth.UNKNOWN}


@pytest.mark.parametrize("mode", MODES)
def test_referenced_groups_and_self_never_admit_the_internet(mode: IdMode) -> None:
    builder = secure_stack()
    builder.set(
        "app-lambda-sg",
        ingress=[
            {"protocol": "tcp", "fromPort": 22, "toPort": 22, "self": True},
            {
                "protocol": "tcp",
                "fromPort": 22,
                "toPort": 22,
                "securityGroups": [Ref("app-db-sg"), "sg-0peer"],
            },
        ],
    )
    builder.add(
        aws.SECURITY_GROUP_RULE,
        "from-group",
        type="ingress",
        securityGroupId=Ref("app-lambda-sg"),
        protocol="tcp",
        fromPort=22,
        toPort=22,
        sourceSecurityGroupId=Ref("app-db-sg"),
    )
    add_ingress(builder, "from-referenced", referencedSecurityGroupId=Ref("app-db-sg"))
    assert problems(SSH_RULE, builder, mode) == []
    builder.set("from-referenced", cidrIpv6="::/0")
    assert problems(SSH_RULE, builder, mode) == [
        ("from-referenced", "security group ingress rule 'from-referenced': it opens SSH (port 22) to ::/0")
    ]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("via", ["inline entries", "entry resource"])
def test_prefix_list_in_the_stack_is_read_through_its_entries(mode: IdMode, via: str) -> None:
    builder = secure_stack()
    builder.add(aws.MANAGED_PREFIX_LIST, "office", addressFamily="IPv4", maxEntries=5)
    if via == "inline entries":
        builder.set("office", entries=[{"cidr": "198.51.100.0/24"}])
    else:
        builder.add(
            aws.MANAGED_PREFIX_LIST_ENTRY, "office-entry", prefixListId=Ref("office"), cidr="198.51.100.0/24"
        )
    add_ingress(builder, "ssh-office", prefixListId=Ref("office"))
    builder.set(
        "app-lambda-sg",
        ingress=[{"protocol": "tcp", "fromPort": 22, "toPort": 22, "prefixListIds": [Ref("office")]}],
    )
    assert problems(SSH_RULE, builder, mode) == []
    if via == "inline entries":
        builder.set("office", entries=[{"cidr": "198.51.100.0/24"}, {"cidr": "0.0.0.0/0"}])
        where = "0.0.0.0/0 (an entry of managed prefix list 'office')"
    else:
        builder.set("office-entry", cidr="0.0.0.0/0")
        where = "0.0.0.0/0 (managed prefix list entry 'office-entry')"
    assert problems(SSH_RULE, builder, mode) == [
        ("app-lambda-sg", f"security group 'app-lambda-sg': it opens SSH (port 22) to {where}"),
        ("ssh-office", f"security group ingress rule 'ssh-office': it opens SSH (port 22) to {where}"),
    ]


def test_prefix_list_outside_the_stack_cannot_be_told() -> None:
    builder = secure_stack()
    add_ingress(builder, "ssh-office", cidrIpv4="198.51.100.0/24")
    assert problems(SSH_RULE, builder, IdMode.UNKNOWN) == []
    builder.unset("ssh-office", "cidrIpv4")
    builder.set("ssh-office", prefixListId="pl-0shared")
    [finding] = run_stack_rule(RULES_BY_NAME[SSH_RULE], builder, IdMode.UNKNOWN)
    assert (finding.unverifiable, finding.outside_stack) == (True, True)
    assert finding.message == (
        "security group ingress rule 'ssh-office': cannot be verified from this stack: it may open SSH "
        "(port 22) to the internet: prefix list pl-0shared of security group ingress rule 'ssh-office' is "
        "not managed by this stack, so the addresses it admits cannot be told. Fix: manage the prefix list "
        "in this stack, or admit its CIDRs directly, or set trustUnmanaged: true for this rule if the stack "
        "that manages it runs this pack."
    )


# --- protocols and ports ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [IdMode.UNKNOWN, IdMode.PLAIN])
@pytest.mark.parametrize(
    ("protocol", "ports", "opened"),
    [
        ("tcp", (22, 22), "SSH (port 22) to 0.0.0.0/0"),
        ("6", (22, 22), "SSH (port 22) to 0.0.0.0/0"),
        (6, (22, 22), "SSH (port 22) to 0.0.0.0/0"),
        ("TCP", ("22", "22"), "SSH (port 22) to 0.0.0.0/0"),
        (
            "tcp",
            (0, 65535),
            "SSH (port 22) and RDP (port 3389) to 0.0.0.0/0 through a rule for every tcp port",
        ),
        ("tcp", (-1, -1), "SSH (port 22) and RDP (port 3389) to 0.0.0.0/0 through a rule for every tcp port"),
        ("17", (3000, 4000), "RDP (port 3389) to 0.0.0.0/0 through udp ports 3000-4000"),
        (
            "-1",
            (0, 0),
            "SSH (port 22) and RDP (port 3389) to 0.0.0.0/0 through a rule for every protocol and port "
            "(protocol -1)",
        ),
        (
            "all",
            (None, None),
            "SSH (port 22) and RDP (port 3389) to 0.0.0.0/0 through a rule for every protocol and port "
            "(protocol -1)",
        ),
        (
            -1,
            (22, 22),
            "SSH (port 22) and RDP (port 3389) to 0.0.0.0/0 through a rule for every protocol and port "
            "(protocol -1)",
        ),
    ],
)
def test_admin_ports_in_every_protocol_and_port_spelling(
    mode: IdMode, protocol: object, ports: tuple[object, object], opened: str
) -> None:
    builder = secure_stack()
    add_ingress(builder, "open", cidrIpv4="0.0.0.0/0", ipProtocol="icmp", fromPort=22, toPort=22)
    assert problems(SSH_RULE, builder, mode) == []  # ICMP type 22 is no port
    builder.set("open", ipProtocol=protocol, fromPort=ports[0], toPort=ports[1])
    assert problems(SSH_RULE, builder, mode) == [
        ("open", f"security group ingress rule 'open': it opens {opened}")
    ]


@pytest.mark.parametrize("protocol", ["icmp", "1", "icmpv6", "58", "50", "udp"])
def test_other_protocols_do_not_open_ssh(protocol: str) -> None:
    builder = secure_stack()
    add_ingress(builder, "open", cidrIpv4="0.0.0.0/0", ipProtocol=protocol)
    assert problems(SSH_RULE, builder, IdMode.UNKNOWN) == []


def test_unknown_ports_on_an_internet_rule_are_one_doubt() -> None:
    builder = secure_stack()
    add_ingress(builder, "port-later", cidrIpv4="0.0.0.0/0", fromPort=443, toPort=443)
    assert problems(SSH_RULE, builder, IdMode.UNKNOWN) == []
    builder.set("port-later", fromPort=UNKNOWN, toPort=UNKNOWN)
    [finding] = run_stack_rule(RULES_BY_NAME[SSH_RULE], builder, IdMode.UNKNOWN)
    assert (finding.unverifiable, finding.message) == (
        True,
        "security group ingress rule 'port-later': cannot be verified before apply: it may open SSH "
        "(port 22) and RDP (port 3389) to the internet: the fromPort of security group ingress rule "
        "'port-later' is only known after apply. Fix: set the protocol, fromPort and toPort literally.",
    )


def test_rule_whose_type_is_unknown_may_be_ingress() -> None:
    builder = secure_stack()
    builder.add(
        aws.SECURITY_GROUP_RULE,
        "either",
        type="egress",
        securityGroupId=Ref("app-lambda-sg"),
        protocol="tcp",
        fromPort=22,
        toPort=22,
        cidrBlocks=["0.0.0.0/0"],
    )
    assert problems(SSH_RULE, builder, IdMode.UNKNOWN) == []
    builder.set("either", type=UNKNOWN)
    [finding] = run_stack_rule(RULES_BY_NAME[SSH_RULE], builder, IdMode.UNKNOWN)
    assert finding.unverifiable
    assert "the type of security group rule 'either' is only known after apply" in finding.message


# --- unions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_rules_that_each_admit_half_the_internet_open_ssh_together(mode: IdMode) -> None:
    builder = secure_stack()
    add_ingress(builder, "low-half", cidrIpv4="0.0.0.0/1")
    add_ingress(builder, "high-half", cidrIpv6="8000::/1")  # IPv4 and IPv6 do not add up
    assert problems(SSH_RULE, builder, mode) == []
    builder.set("high-half", cidrIpv4="128.0.0.0/1", cidrIpv6=None)
    assert problems(SSH_RULE, builder, mode) == [
        (
            "app-lambda-sg",
            "security group 'app-lambda-sg': the ingress rules of security group 'app-lambda-sg' together "
            "open SSH (port 22) to 0.0.0.0/1 through security group ingress rule 'low-half', 128.0.0.0/1 "
            "through security group ingress rule 'high-half' (together every Internet address)",
        )
    ]


@pytest.mark.parametrize("mode", MODES)
def test_one_inline_rule_listing_every_public_range_opens_ssh(mode: IdMode) -> None:
    public = [str(block) for block in INTERNET[4]]
    builder = secure_stack()
    builder.set(
        "app-lambda-sg", ingress=[{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": public[1:]}]
    )
    assert problems(SSH_RULE, builder, mode) == []
    builder.set(
        "app-lambda-sg", ingress=[{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": public}]
    )
    [(name, message)] = problems(SSH_RULE, builder, mode)
    assert (name, message.endswith("(together every Internet address)")) == ("app-lambda-sg", True)


@pytest.mark.parametrize("mode", MODES)
def test_database_groups_that_together_admit_the_internet_are_caught(mode: IdMode) -> None:
    builder = secure_stack()
    builder.add(aws.SECURITY_GROUP, "db-extra-sg", vpcId=Ref("app-vpc"), description="more")
    builder.set("app-db", vpcSecurityGroupIds=[Ref("app-db-sg"), Ref("db-extra-sg")])
    add_ingress(builder, "db-low", "app-db-sg", fromPort=5432, toPort=5432, cidrIpv4="0.0.0.0/1")
    add_ingress(builder, "db-high", "db-extra-sg", fromPort=5432, toPort=5432, cidrIpv4="128.0.0.0/2")
    assert problems(DB_RULE, builder, mode) == []
    builder.set("db-high", cidrIpv4="128.0.0.0/1")
    assert problems(DB_RULE, builder, mode) == [
        (
            "app-db",
            "RDS instance 'app-db': its security groups together admit 0.0.0.0/1 through security group "
            "ingress rule 'db-low', 128.0.0.0/1 through security group ingress rule 'db-high' (together "
            "every Internet address)",
        )
    ]


@pytest.mark.parametrize("mode", MODES)
def test_database_open_through_a_prefix_list_is_caught(mode: IdMode) -> None:
    builder = secure_stack()
    builder.add(
        aws.MANAGED_PREFIX_LIST,
        "partners",
        addressFamily="IPv6",
        maxEntries=2,
        entries=[{"cidr": "2001:db8::/32"}],
    )
    add_ingress(builder, "db-partners", "app-db-sg", fromPort=5432, toPort=5432, prefixListId=Ref("partners"))
    assert problems(DB_RULE, builder, mode) == []
    builder.set("partners", entries=[{"cidr": "::/0"}])
    assert problems(DB_RULE, builder, mode) == [
        (
            "app-db",
            "RDS instance 'app-db': security group 'app-db-sg' admits ::/0 (an entry of managed prefix list "
            "'partners') through security group ingress rule 'db-partners'",
        )
    ]
