"""IAM documents the components share (pure, no Pulumi import)."""

from __future__ import annotations

import json


def assume_role_policy(service: str) -> str:
    """The trust policy that lets an AWS service (e.g. `ec2.amazonaws.com`) assume a role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )
