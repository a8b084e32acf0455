"""The monthly cost estimate: the line items users see before they deploy, the price table, its override."""

from __future__ import annotations

import json
from datetime import date

import pytest

from preview.engine import StackRun, shipped_stacks
from preview.model import ResourceRecord
from tests.access_helpers import REGION, StandInNetwork, run_program
from zappa_vpc.components.database import PrivateDatabase, PrivateDatabaseArgs
from zappa_vpc.components.endpoints import VpcEndpoints, VpcEndpointsArgs
from zappa_vpc.plan.costs import (
    DB_INSTANCE,
    STATEMENT,
    Category,
    CostEstimate,
    CostLine,
    estimate_monthly_cost,
    render_cost_text,
)
from zappa_vpc.plan.options import DatabaseEngine, DatabaseOptions, EndpointOptions
from zappa_vpc.plan.prices import (
    DEFAULT_PRICES,
    PriceTable,
    PriceTableError,
    load_prices,
    parse_price_table,
)

PRICES = load_prices()
AWSX_DEFAULTS = {"zappa-vpc:azCount": 3, "zappa-vpc:natStrategy": "one-per-az"}


def estimate_of(run: StackRun, prices=PRICES) -> CostEstimate:
    assert run.error is None, run.error
    return estimate_monthly_cost(run.resources, prices, run.config["aws:region"])


def line(estimate: CostEstimate, item: str) -> CostLine:
    matches = [line for line in estimate.lines if line.item == item]
    items = [each.item for each in estimate.lines]
    assert len(matches) == 1, f"expected one line '{item}', the lines are {items}"
    return matches[0]


def test_dev_pays_for_one_nat_its_address_and_the_bastion(stack_run):
    estimate = estimate_of(stack_run("dev"))

    nat = line(estimate, "NAT gateway")
    assert (nat.quantity, nat.monthly_usd) == (1, pytest.approx(0.045 * 730))
    assert nat.resources == ("dev-nat-gateway-us-east-1a",)
    assert line(estimate, "Public IPv4 address (Elastic IP)").resources == ("dev-nat-eip-us-east-1a",)
    bastion_ip = line(estimate, "Public IPv4 address (EC2 instance)")
    assert (bastion_ip.category, bastion_ip.monthly_usd) == (Category.BASTION, pytest.approx(3.65))
    assert line(estimate, "EC2 instance t4g.nano").monthly_usd == pytest.approx(0.0042 * 730)
    assert estimate.subtotal(Category.NETWORK) == pytest.approx(32.85 + 3.65)
    assert estimate.unpriced == () and estimate.warnings == ()


def test_dev_pays_for_a_single_az_micro_postgres_with_20_gb(stack_run):
    estimate = estimate_of(stack_run("dev"))

    instance = line(estimate, "RDS postgres db.t4g.micro (Single-AZ)")
    assert instance.monthly_usd == pytest.approx(0.016 * 730)
    storage = line(estimate, "RDS storage gp3 (Single-AZ)")
    assert (storage.quantity, storage.monthly_usd) == (20, pytest.approx(20 * 0.115))
    assert line(estimate, "Secrets Manager secret (RDS-managed master password)").monthly_usd == 0.4


def test_dev_network_costs_at_most_half_the_awsx_default_layout(stack_run):
    """The issue's acceptance criterion: awsx ec2.Vpc's defaults are 3 AZs with a NAT per AZ."""
    dev = estimate_of(stack_run("dev")).subtotal(Category.NETWORK)
    awsx = estimate_of(stack_run("dev", AWSX_DEFAULTS)).subtotal(Category.NETWORK)

    assert dev <= awsx / 2, f"dev's network costs {dev:.2f} a month, awsx defaults {awsx:.2f}"


def test_a_nat_per_az_is_priced_per_az(stack_run):
    estimate = estimate_of(stack_run("dev", AWSX_DEFAULTS))

    assert line(estimate, "NAT gateway").quantity == 3
    assert line(estimate, "Public IPv4 address (Elastic IP)").quantity == 3


def test_an_override_file_changes_the_prices_it_names_and_keeps_the_rest(stack_run, tmp_path):
    override = tmp_path / "prices.json"
    override.write_text(json.dumps({"hourly": {"natGateway": 0.09}}))
    prices = load_prices(override)

    shipped, overridden = estimate_of(stack_run("dev")), estimate_of(stack_run("dev"), prices)

    assert overridden.total_usd == pytest.approx(shipped.total_usd + 0.045 * 730)
    assert (
        line(overridden, "EC2 instance t4g.nano").monthly_usd
        == line(shipped, "EC2 instance t4g.nano").monthly_usd
    )
    assert overridden.to_dict()["prices"]["files"] == ["zappa_vpc/pricing/us-east-1.json", str(override)]


def test_an_override_file_can_price_an_instance_type_the_table_lacks(stack_run, tmp_path):
    override = tmp_path / "prices.json"
    override.write_text(json.dumps({"ec2InstanceHourly": {"c7g.medium": 0.0363}}))

    estimate = estimate_of(
        stack_run("dev", {"zappa-vpc:bastionInstanceType": "c7g.medium"}), load_prices(override)
    )

    assert line(estimate, "EC2 instance c7g.medium").monthly_usd == pytest.approx(0.0363 * 730)


def test_an_instance_type_missing_from_the_table_is_flagged_not_priced_at_zero(stack_run):
    estimate = estimate_of(stack_run("dev", {"zappa-vpc:bastionInstanceType": "c7g.medium"}))

    instance = line(estimate, "EC2 instance c7g.medium")
    assert instance.monthly_usd is None and instance.unit_price is None
    assert 'add ec2InstanceHourly["c7g.medium"] in a prices file' in instance.note
    assert estimate.unpriced == (instance,)
    assert estimate.to_dict()["complete"] is False
    assert any("EC2 instance c7g.medium" in warning for warning in estimate.warnings)
    assert "no price" in render_cost_text(estimate)


def test_the_estimate_says_it_excludes_data_charges_and_quotes_them(stack_run):
    estimate = estimate_of(stack_run("dev"))
    text = render_cost_text(estimate)

    assert STATEMENT in text and estimate.to_dict()["statement"] == STATEMENT
    assert "NAT gateway data processing: 0.045 USD/GB" in estimate.excluded


def test_a_stack_in_another_region_is_warned_that_the_prices_are_us_east_1s(stack_run):
    estimate = estimate_of(stack_run("dev", {"aws:region": "eu-west-1"}))

    assert any("give eu-west-1's prices" in warning for warning in estimate.warnings)


def _database_estimate(options: DatabaseOptions, prices: PriceTable = PRICES) -> CostEstimate:
    def program() -> None:
        network = StandInNetwork.build()
        PrivateDatabase(
            "app-db",
            PrivateDatabaseArgs(
                options=options,
                vpc_id=network.vpc.id,
                subnet_ids=[subnet.id for subnet in network.data_subnets],
                client_security_groups=network.sg_ids("lambda"),
            ),
        )

    _, recorded = run_program(program)
    return estimate_monthly_cost(recorded.records, prices, REGION)


def test_multi_az_doubles_instance_and_storage_and_the_proxy_bills_two_vcpus_at_least():
    estimate = _database_estimate(
        DatabaseOptions(instance_class="db.t4g.medium", storage_gb=50, multi_az=True, proxy=True)
    )

    assert line(estimate, "RDS postgres db.t4g.medium (Multi-AZ)").monthly_usd == pytest.approx(0.13 * 730)
    assert line(estimate, "RDS storage gp3 (Multi-AZ)").monthly_usd == pytest.approx(50 * 0.23)
    proxy = line(estimate, "RDS Proxy")
    assert (proxy.quantity, proxy.monthly_usd) == (2, pytest.approx(2 * 0.015 * 730))


def test_a_database_class_missing_from_the_table_is_flagged():
    estimate = _database_estimate(DatabaseOptions(engine=DatabaseEngine.MYSQL, instance_class="db.r7g.large"))

    instance = line(estimate, "RDS mysql db.r7g.large (Single-AZ)")
    assert instance.monthly_usd is None
    assert 'rdsInstanceClasses["db.r7g.large"].hourly["mysql"].singleAz' in instance.note


def test_a_proxy_beside_databases_of_different_sizes_is_not_guessed(tmp_path):
    override = tmp_path / "prices.json"
    four_vcpus = {"vcpus": 4, "hourly": {"postgres": {"singleAz": 0.318, "multiAz": 0.636}}}
    override.write_text(json.dumps({"rdsInstanceClasses": {"db.m6g.xlarge": four_vcpus}}))

    def database(name: str, instance_class: str) -> ResourceRecord:
        properties = {"engine": "postgres", "instanceClass": instance_class, "allocatedStorage": 20}
        return ResourceRecord(f"urn:{name}", DB_INSTANCE, name, True, properties | {"storageType": "gp3"})

    proxy = ResourceRecord("urn:proxy", "aws:rds/proxy:Proxy", "proxy", True, {"engineFamily": "POSTGRESQL"})
    prices = load_prices(override)
    one_size = [database("a", "db.t4g.micro"), database("b", "db.m6g.large"), proxy]  # both 2 vCPUs
    two_sizes = [database("a", "db.t4g.micro"), database("b", "db.m6g.xlarge"), proxy]

    assert line(estimate_monthly_cost(one_size, prices), "RDS Proxy").quantity == 2
    unpriced = line(estimate_monthly_cost(two_sizes, prices), "RDS Proxy")
    assert unpriced.monthly_usd is None and "per vCPU of its database" in unpriced.note


def test_interface_endpoints_bill_per_az_and_gateway_endpoints_are_free():
    def program() -> None:
        network = StandInNetwork.build(zones=("eu-west-1a", "eu-west-1b", "eu-west-1c"))
        VpcEndpoints(
            "app-endpoints",
            VpcEndpointsArgs(
                options=EndpointOptions(interface=("sqs", "secretsmanager")),
                region=REGION,
                vpc_id=network.vpc.id,
                route_table_ids={label: table.id for label, table in network.route_tables.items()},
                subnet_ids=[subnet.id for subnet in network.private_subnets],
                client_security_groups=network.sg_ids("lambda"),
            ),
        )

    _, recorded = run_program(program)
    estimate = estimate_monthly_cost(recorded.records, PRICES, REGION)

    sqs = line(estimate, "Interface endpoint sqs")
    assert (sqs.quantity, sqs.monthly_usd) == (3, pytest.approx(3 * 0.01 * 730))
    assert line(estimate, "Gateway endpoint s3").monthly_usd == 0
    assert estimate.subtotal(Category.NETWORK) == pytest.approx(2 * 3 * 7.3)


def test_the_shipped_price_table_is_dated_and_names_its_sources():
    prices = load_prices()

    assert date(2024, 2, 1) <= prices.prices_as_of <= date.today()  # the public IPv4 charge began 2024-02-01
    assert prices.sources and all(source.startswith("https://aws.amazon.com/") for source in prices.sources)
    assert prices.region == "us-east-1" and prices.hours_per_month == 730


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"hourly": {"natGateway": "cheap"}}, 'hourly.natGateway = "cheap": expected a price in USD'),
        ({"hourly": {"natGatway": 0.05}}, "hourly.natGatway: not a price table key; the keys here are"),
        ({"pricesAsOf": "last week"}, 'pricesAsOf = "last week": expected the date the prices were taken'),
        (
            {"rdsInstanceClasses": {"db.r7g.large": {"vcpus": 2, "hourly": {"mysql": {"singleAz": 0.2}}}}},
            'rdsInstanceClasses["db.r7g.large"].hourly["mysql"].multiAz: missing',
        ),
    ],
)
def test_a_bad_override_names_the_key_the_value_and_the_fix(tmp_path, override, message):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(override))

    with pytest.raises(PriceTableError) as raised:
        load_prices(path)

    assert message in str(raised.value)
    assert str(path) in str(raised.value)


def test_a_table_without_its_date_or_sources_is_refused():
    document = json.loads(DEFAULT_PRICES.read_text())
    del document["pricesAsOf"], document["sources"]

    with pytest.raises(PriceTableError) as raised:
        parse_price_table(document, ["undated.json"])

    assert [problem.split(" = ")[0] for problem in raised.value.problems] == ["pricesAsOf", "sources"]


# The program's own estimate (the stack output) must be the one the preview computes, for every stack.
@pytest.mark.parametrize("stack", shipped_stacks())
def test_the_stack_output_is_the_estimate_the_preview_shows(stack_run, stack):
    run = stack_run(stack)

    assert run.outputs["monthly_cost_estimate"] == estimate_of(run).to_dict()


def test_vpn_tunnel_keys_kept_in_secrets_manager_are_priced(stack_run):
    estimate = estimate_of(stack_run("hybrid"))

    keys = line(estimate, "Secrets Manager secret (VPN tunnel keys)")
    assert (keys.quantity, keys.monthly_usd) == (1, 0.40)
    assert line(estimate, "Site-to-Site VPN connection").monthly_usd == 36.50


def test_a_major_past_standard_support_is_charged_extended_support_per_vcpu_and_standby(tmp_path):
    """MySQL 8.0 left RDS standard support on 2026-07-31; prices dated 2026-11-29 are in its year 1."""
    override = tmp_path / "prices.json"
    override.write_text(json.dumps({"pricesAsOf": "2026-11-29"}))
    estimate = _database_estimate(
        DatabaseOptions(engine=DatabaseEngine.MYSQL, engine_version="8.0", multi_az=True),
        load_prices(override),
    )

    extended = line(estimate, "RDS Extended Support (mysql 8.0, years 1-2)")
    # db.t4g.micro has 2 vCPUs; the Multi-AZ standby is billed too.
    assert (extended.quantity, extended.unit_price) == (4, 0.1)
    assert extended.monthly_usd == pytest.approx(4 * 0.1 * 730)


def test_a_supported_major_pays_no_extended_support():
    for options in (DatabaseOptions(), DatabaseOptions(engine=DatabaseEngine.MYSQL)):
        estimate = _database_estimate(options)
        assert not [each for each in estimate.lines if each.item.startswith("RDS Extended Support")]


def test_year_three_of_extended_support_costs_the_higher_rate(tmp_path):
    # Prices dated 2026-11-29, whatever the date of the shipped table.
    override = tmp_path / "prices.json"
    override.write_text(json.dumps({"pricesAsOf": "2026-11-29"}))
    postgres_11 = ResourceRecord(
        "urn:db",
        DB_INSTANCE,
        "db",
        True,
        {
            "engine": "postgres",
            "engineVersion": "11.22",
            "instanceClass": "db.t4g.micro",
            "storageType": "gp3",
        },
    )

    # PostgreSQL 11 left standard support on 2024-02-29: 2026-11-29 is in year 3.
    extended = line(
        estimate_monthly_cost([postgres_11], load_prices(override)),
        "RDS Extended Support (postgres 11, year 3)",
    )
    assert (extended.quantity, extended.unit_price) == (2, 0.2)


def test_the_estimate_names_cloudwatch_logs_for_database_exports_and_flow_logs(stack_run):
    prod = estimate_of(stack_run("prod"))

    logs = "CloudWatch Logs ingestion 0.5 USD/GB and storage 0.03 USD/GB-month"
    assert f"RDS log exports (postgresql, upgrade): {logs} for as long as they are kept" in prod.excluded
    assert any(item.startswith("VPC flow logs: ") and logs in item for item in prod.excluded), prod.excluded


def test_workers_are_priced_at_the_groups_minimum_size_with_their_volumes(stack_run):
    run = stack_run(
        "dev", {"zappa-vpc:workers": True, "zappa-vpc:workerMinSize": 3, "zappa-vpc:workerMaxSize": 5}
    )
    estimate = estimate_of(run)
    workers = [each for each in estimate.lines if each.category == Category.WORKERS]
    assert [(each.item, each.quantity) for each in workers] == [
        ("EC2 instance t4g.small", 3),
        ("EBS root volume (gp3)", 24),
    ]
    assert estimate.subtotal(Category.WORKERS) == pytest.approx(3 * 0.0168 * 730 + 24 * 0.08)
    # Private: no public IPv4 charge beyond the bastion's.
    assert line(estimate, "Public IPv4 address (EC2 instance)").resources == ("dev-bastion-instance",)


def test_the_app_bucket_is_listed_as_usage_priced(stack_run):
    assert not any("app bucket" in item for item in estimate_of(stack_run("dev")).excluded)
    excluded = estimate_of(stack_run("dev", {"zappa-vpc:appBucket": True})).excluded
    assert "S3 storage and requests of the app bucket (per GB-month and per request)" in excluded
