"""The context object Lambda hands to a function, with a real clock behind the remaining time."""

from __future__ import annotations

import time
import uuid

ACCOUNT = "123456789012"


class LambdaContext:
    function_name = "trailkeeper-TrailSettingsFunction"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    log_group_name = "/aws/lambda/trailkeeper-TrailSettingsFunction"
    log_stream_name = "2026/11/25/[$LATEST]0123456789abcdef"

    def __init__(self, timeout_seconds: float = 60.0, region: str = "us-east-1") -> None:
        self._end = time.monotonic() + timeout_seconds
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._end - time.monotonic()) * 1000))
