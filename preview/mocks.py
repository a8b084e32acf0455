"""Mock AWS provider for the offline preview and the tests.

On a preview (`preview=True`) every new resource gets an unknown id and no computed outputs, exactly as
on a first `pulumi preview`. With `preview=False` it plays an update: ids and the computed outputs the
program reads are known, shaped like AWS's, so the same program and policy pack can be checked both ways.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import pulumi

from preview.aws_ids import ACCOUNT_ID, fake_id
from preview.data_sources import DATA_SOURCES


class AwsMocks(pulumi.runtime.Mocks):
    """Answers resource registrations, and data-source calls from `DATA_SOURCES`."""

    def __init__(
        self, region: str, preview: bool, answers: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        self.region = region
        self.preview = preview
        self.answers = dict(answers or {})

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if self.preview or not args.custom:
            # First preview: the engine knows only what the program gave it. Components have no id.
            return "", dict(args.inputs)
        resource_id = fake_id(args.typ, args.name)
        return resource_id, {**args.inputs, **self._computed_outputs(args, resource_id)}

    def _computed_outputs(self, args: pulumi.runtime.MockResourceArgs, resource_id: str) -> dict[str, Any]:
        arn_base = f"arn:aws:{args.typ.split(':')[1].split('/')[0]}:{self.region}:{ACCOUNT_ID}"
        outputs: dict[str, Any] = {"arn": f"{arn_base}:{resource_id}"}
        if args.typ == "aws:rds/instance:Instance":
            secret_base = f"arn:aws:secretsmanager:{self.region}:{ACCOUNT_ID}"
            host = f"{args.name}.c0ffee.{self.region}.rds.amazonaws.com"
            outputs |= {
                "identifier": args.inputs.get("identifier") or args.name,
                "address": host,
                "endpoint": f"{host}:{args.inputs.get('port', 5432)}",
                "masterUserSecrets": [{"secretArn": f"{secret_base}:secret:rds!{args.name}"}],
            }
        if args.typ == "random:index/randomId:RandomId":
            digest = hashlib.sha256(args.name.encode()).hexdigest()
            outputs["hex"] = digest[: 2 * int(args.inputs.get("byteLength", 4))]
        if args.typ == "aws:ec2/vpc:Vpc":
            # AWS creates a main route table and a default security group with every VPC.
            main_table = fake_id("aws:ec2/routeTable:RouteTable", f"{args.name}-main")
            outputs |= {
                "defaultRouteTableId": main_table,
                "mainRouteTableId": main_table,
                "defaultSecurityGroupId": fake_id(
                    "aws:ec2/securityGroup:SecurityGroup", f"{args.name}-default"
                ),
            }
        if (
            args.typ == "aws:ec2/vpcEndpoint:VpcEndpoint"
            and args.inputs.get("vpcEndpointType") == "Interface"
        ):
            service = args.inputs["serviceName"].rsplit(".", 1)[-1]
            outputs["dnsEntries"] = [
                {
                    "dnsName": f"{resource_id}.{service}.{self.region}.vpce.amazonaws.com",
                    "hostedZoneId": "Z7HUB22UULQXV",
                }
            ]
        if args.typ == "aws:ec2/instance:Instance":
            outputs["publicIp"] = "198.51.100.7"
        if args.typ == "aws:cloudwatch/logGroup:LogGroup":
            outputs["arn"] = f"arn:aws:logs:{self.region}:{ACCOUNT_ID}:log-group:{resource_id}"
        if args.typ == "aws:ec2/vpnConnection:VpnConnection":
            # AWS's two tunnel endpoints, and the secret holding both keys (preshared_key_storage).
            secrets = arn_base.replace(":ec2:", ":secretsmanager:")
            outputs |= {
                "tunnel1Address": "198.51.100.21",
                "tunnel2Address": "198.51.100.22",
                "presharedKeyArn": f"{secrets}:secret:{resource_id}-psk",
            }
        if args.typ == "aws:rds/proxy:Proxy":
            outputs["endpoint"] = f"{args.name}.proxy-c0ffee.{self.region}.rds.amazonaws.com"
            outputs["name"] = args.inputs.get("name") or args.name
        if args.typ == "aws:ec2/securityGroup:SecurityGroup":
            outputs["name"] = args.inputs.get("name") or args.name
        if args.typ == "aws:rds/subnetGroup:SubnetGroup":
            outputs["name"] = args.inputs.get("name") or args.name
        return outputs

    def answer(self, token: str, args: Mapping[str, Any]) -> dict[str, Any] | None:
        """A data source's result offline: the user's (`answers`), else ours; None when unknown."""
        if token in self.answers:
            return dict(self.answers[token])
        answer = DATA_SOURCES.get(token)
        return answer(self.region, args) if answer is not None else None

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        result = self.answer(args.token, args.args)
        if result is None:
            # RecordingMonitor answers these as unknown before they get here.
            raise NotImplementedError(f"the offline preview has no answer for the data source {args.token}")
        return result
