"""Run the provider on one event in a process of its own, as Lambda runs it in another account.

`make demo` shows the custom resource from CloudTrail's delegated administrator (and from a plain member) with
it: the account's credentials and the function's environment come from this process's environment, the handler
is loaded as Lambda loads it (`CodeUri` and `Handler` from template.yaml), and every AWS call the provider makes is
printed, one JSON line each ({"service", "operation", "region", "params"}), before the handler returns.

    python -m devkit.lambda_run < event.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

from devkit import template
from devkit.lambda_context import LambdaContext

CALL = "call "  # the prefix of each call's line


def load_handler() -> Any:
    """The Lambda handler, imported from the function's code as Lambda imports it."""
    code, handler = template.provider_function()
    sys.path.insert(0, str(code))
    module, function = handler.rsplit(".", 1)
    return getattr(__import__(module, fromlist=[function]), function)


def main() -> int:
    event = json.load(sys.stdin)
    handler = load_handler()
    from trailkeeper import botocore_model

    def record(params: dict[str, Any], model: Any, context: Any, **_: Any) -> None:
        made = {"service": model.service_model.service_name, "operation": model.name, "params": params}
        print(CALL + json.dumps(made, default=str), flush=True)

    # Every client the provider builds shares this botocore session, and copies its handlers when it is built.
    botocore_model.botocore_session().register("provide-client-params", record)
    handler(event, LambdaContext(timeout_seconds=60))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
