"""The zappa-vpc component provider, as the Pulumi CLI starts a Python plugin: `python provider <engine>`."""

import pathlib
import sys

# The checkout's zappa_vpc, beside this directory (the CLI runs the plugin from the user's project).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from pulumi.provider import main

from zappa_vpc.provider import ZappaVpcProvider

if __name__ == "__main__":
    main(ZappaVpcProvider(), sys.argv[1:])
