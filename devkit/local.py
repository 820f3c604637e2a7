"""The embedded local AWS (moto's server) and the local CloudFormation endpoint, started and stopped together."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from moto.server import ThreadedMotoServer

from devkit import fidelity, world
from devkit.cfn_server import ResponseServer


@contextlib.contextmanager
def local_aws() -> Iterator[tuple[str, ResponseServer]]:
    """(moto's endpoint URL, the response server); fake credentials for this process and its children.

    moto's CloudTrail answers as CloudTrail does (devkit.fidelity: default selector, Insights rules, home
    regions, key ARNs), so what the demo and the benchmarks show is what AWS would do.
    """
    world.use_local_credentials()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    cfn = ResponseServer()
    try:
        with fidelity.cloudtrail_as_aws():
            host, port = moto.get_host_and_port()
            yield f"http://{host}:{port}", cfn
    finally:
        cfn.close()
        moto.stop()
