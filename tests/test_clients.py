"""The AWS edge's clients: every default `Clients` shares the process's one boto3 session (boto3 registers
its handlers again on each session that wraps the botocore session, and an S3 client then fails to build)."""

from __future__ import annotations

from trailkeeper.aws.calls import Clients


def test_clients_made_one_after_another_still_build_s3_clients() -> None:
    first, second = Clients(), Clients()
    first.client("sts", "us-east-1")
    assert second.client("s3", "us-east-1") is not None  # raised "Cannot inject class attribute upload_file"
    assert Clients().client("s3", "eu-west-1") is not None
