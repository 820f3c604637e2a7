"""The policy evaluator (audit/policy.py): IAM's logic for CloudTrail's own requests, three-valued.

Each case is a policy AWS documents for CloudTrail, or a guard rail real accounts put beside it, asked the
question a delivery asks (audit/chain.py builds those requests). What cannot be told is UNKNOWN, never a
pass: a Deny that may apply, an `{"AWS": "*"}` principal, a key the request's context does not describe.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trailkeeper.audit import policy
from trailkeeper.audit.chain import Delivery
from trailkeeper.audit.policy import ALLOWED, DENIED, UNDECIDED, Request, evaluate, glob, parse

ACCOUNT, REGION = "111122223333", "us-east-1"
TRAIL = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/audit"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CLOUDTRAIL = {"Service": "cloudtrail.amazonaws.com"}


def delivery(**changes: Any) -> Delivery:
    base: dict[str, Any] = {
        "trail": TRAIL,
        "account": ACCOUNT,
        "home_region": REGION,
        "partition": "aws",
        "bucket": "logs",
        "prefix": "",
    }
    return Delivery(**{**base, **changes})


def documented_bucket_policy(bucket: str = "logs", source: str = TRAIL) -> dict[str, Any]:
    """The bucket policy of the CloudTrail User Guide (create-s3-bucket-policy-for-cloudtrail)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailAclCheck20150319",
                "Effect": "Allow",
                "Principal": CLOUDTRAIL,
                "Action": "s3:GetBucketAcl",
                "Resource": f"arn:aws:s3:::{bucket}",
                "Condition": {"StringEquals": {"aws:SourceArn": source}},
            },
            {
                "Sid": "AWSCloudTrailWrite20150319",
                "Effect": "Allow",
                "Principal": CLOUDTRAIL,
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/*",
                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": source}},
            },
        ],
    }


def outcomes(document: Any, requests: list[Request]) -> list[str]:
    return [evaluate([parse(document)], r).outcome for r in requests]


def with_statement(document: dict[str, Any], statement: dict[str, Any]) -> dict[str, Any]:
    return {**document, "Statement": [*document["Statement"], statement]}


# --- the documented policies, and what breaks them ---------------------------------------------------------------


def test_the_documented_bucket_policy_lets_every_request_of_a_trail_through() -> None:
    trail = delivery(validation=True)
    assert outcomes(documented_bucket_policy(), [*trail.bucket_requests(), *trail.digest_requests()]) == [ALLOWED] * 3


def test_a_policy_scoped_to_another_trail_or_folder_is_the_implicit_deny_an_append_fixes() -> None:
    other = documented_bucket_policy(source=TRAIL.replace("/audit", "/other"))
    decision = evaluate([parse(other)], delivery().bucket_requests()[1])
    assert decision.outcome == DENIED and decision.statements == ()  # no statement denies: none allows
    assert "does not allow it" in decision.reason and "PutObject of a log file" in decision.reason
    elsewhere = json.loads(json.dumps(documented_bucket_policy()).replace("AWSLogs/", "other/AWSLogs/"))
    assert outcomes(elsewhere, delivery().bucket_requests()) == [ALLOWED, DENIED]
    assert outcomes(elsewhere, delivery(prefix="other").bucket_requests()) == [ALLOWED, ALLOWED]


def test_no_policy_at_all_denies_and_an_unreadable_one_cannot_be_judged() -> None:
    assert outcomes({"Statement": []}, delivery().bucket_requests()) == [DENIED, DENIED]
    for text, said in (("{not json", "is not JSON"), ('{"Statement": 3}', "no Statement"), ("[]", "not a JSON object")):
        decision = evaluate([parse(text, "the bucket policy of logs")], delivery().bucket_requests()[0])
        assert decision.outcome == UNDECIDED and said in decision.reason
    effectless = {"Statement": [{"Principal": "*", "Action": "*", "Resource": "*"}]}
    assert evaluate([parse(effectless)], delivery().bucket_requests()[0]).outcome == UNDECIDED


def test_guard_rails_that_cloudtrails_requests_do_not_meet_do_not_count() -> None:
    tls = {
        "Sid": "AllowSSLRequestsOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    organization = {
        "Sid": "DenyOutsideTheOrganization",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"],
        "Condition": {
            "StringNotEquals": {"aws:PrincipalOrgID": "o-abcdefghij"},
            "Bool": {"aws:PrincipalIsAWSService": "false"},
        },
    }
    guarded = with_statement(with_statement(documented_bucket_policy(), tls), organization)
    assert outcomes(guarded, delivery().bucket_requests()) == [ALLOWED, ALLOWED]


def test_a_deny_of_principals_outside_the_organization_stops_cloudtrail_unless_it_excepts_aws_services() -> None:
    outside = {
        "Sid": "DenyOutside",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::logs/*",
        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}},
    }
    decision = evaluate([parse(with_statement(documented_bucket_policy(), outside))], delivery().bucket_requests()[1])
    assert decision.outcome == DENIED and decision.statements == ("statement 'DenyOutside'",)


def test_encryption_denies_judged_by_what_each_upload_sends() -> None:
    only_kms = {
        "Sid": "OnlyKms",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::logs/*",
        "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
    }
    document = with_statement(documented_bucket_policy(), only_kms)
    encrypted = delivery(key=KEY, validation=True)
    # Log files of a trail with a key are SSE-KMS; digest files are always SSE-S3 (AES256): refused.
    assert outcomes(document, [encrypted.bucket_requests()[1], *encrypted.digest_requests()]) == [ALLOWED, DENIED]
    # Without a key, whether the log file's upload sends the header is not documented: cannot be told.
    assert outcomes(document, [delivery().bucket_requests()[1]]) == [UNDECIDED]
    either = json.loads(json.dumps(document).replace('"aws:kms"', '["aws:kms", "AES256"]'))
    assert outcomes(either, [encrypted.bucket_requests()[1], *encrypted.digest_requests()]) == [ALLOWED, ALLOWED]


def test_a_principal_policy_cannot_tell_of_and_a_not_principal_deny_applies_to_cloudtrail() -> None:
    anyone_in_aws = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "*"}
    assert outcomes({"Statement": [anyone_in_aws]}, delivery().bucket_requests()) == [UNDECIDED, UNDECIDED]
    everyone = {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}
    assert outcomes({"Statement": [everyone]}, delivery().bucket_requests()) == [ALLOWED, ALLOWED]
    all_but_admins = {
        "Effect": "Deny",
        "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/admin"},
        "Action": "s3:PutObject",
        "Resource": "*",
    }
    assert outcomes(with_statement(documented_bucket_policy(), all_but_admins), delivery().bucket_requests()) == [
        ALLOWED,
        DENIED,
    ]
    cloudtrail_excepted = {**all_but_admins, "NotPrincipal": {"Service": "cloudtrail.amazonaws.com"}}
    assert outcomes(with_statement(documented_bucket_policy(), cloudtrail_excepted), delivery().bucket_requests()) == [
        ALLOWED,
        ALLOWED,
    ]


def test_not_action_and_not_resource() -> None:
    read_only = {"Effect": "Deny", "Principal": "*", "NotAction": ["s3:Get*", "s3:List*"], "Resource": "*"}
    assert outcomes(with_statement(documented_bucket_policy(), read_only), delivery().bucket_requests()) == [
        ALLOWED,
        DENIED,
    ]
    not_logs = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "NotResource": "arn:aws:s3:::logs/AWSLogs/*"}
    assert outcomes(with_statement(documented_bucket_policy(), not_logs), delivery().bucket_requests()) == [
        DENIED,  # the bucket itself is not under AWSLogs/
        ALLOWED,
    ]


def test_what_the_request_does_not_describe_cannot_be_told_either_way() -> None:
    vpc_only = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1234"}},
    }
    decision = evaluate([parse(with_statement(documented_bucket_policy(), vpc_only))], delivery().bucket_requests()[0])
    assert decision.outcome == UNDECIDED and "cannot be told" in decision.reason
    variable = documented_bucket_policy()
    variable["Statement"][1]["Resource"] = "arn:aws:s3:::logs/AWSLogs/${aws:PrincipalAccount}/*"
    assert outcomes(variable, delivery().bucket_requests())[1] == UNDECIDED
    numeric = {
        "Effect": "Allow",
        "Principal": CLOUDTRAIL,
        "Action": "s3:GetBucketAcl",
        "Resource": "arn:aws:s3:::logs",
        "Condition": {"NumericLessThan": {"aws:SourceArn": "3"}},
    }
    assert outcomes({"Statement": [numeric]}, delivery().bucket_requests())[0] == UNDECIDED


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"StringEqualsIfExists": {"s3:x-amz-acl": "private"}}, policy.MATCH),  # GetBucketAcl carries no ACL header
        ({"StringEquals": {"s3:x-amz-acl": "private"}}, policy.NO_MATCH),
        ({"StringNotEquals": {"s3:x-amz-acl": "private"}}, policy.MATCH),
        ({"ForAllValues:StringEquals": {"s3:x-amz-acl": "private"}}, policy.MATCH),
        ({"ForAnyValue:StringEquals": {"s3:x-amz-acl": "private"}}, policy.NO_MATCH),
        ({"Null": {"s3:x-amz-acl": "true"}}, policy.MATCH),
        ({"Null": {"s3:x-amz-acl": "false"}}, policy.NO_MATCH),
        ({"Null": {"aws:SourceArn": "false"}}, policy.MATCH),
        ({"Bool": {"aws:SecureTransport": True}}, policy.MATCH),  # a JSON boolean reads as "true"
        ({"StringLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:111122223333:trail/*"}}, policy.MATCH),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:111122223333:trail/*"}}, policy.MATCH),
        ({"ArnNotLike": {"aws:SourceArn": ["arn:aws:cloudtrail:*:999999999999:*", "x"]}}, policy.MATCH),
        ({"StringEqualsIgnoreCase": {"AWS:SOURCEARN": TRAIL.upper()}}, policy.MATCH),  # keys are case-insensitive
        ({"StringEquals": {"aws:SourceArn": TRAIL.upper()}}, policy.NO_MATCH),  # values are not
        ({"StringLikeButNot": {"aws:SourceArn": "*"}}, policy.UNKNOWN),
        ({"ForSomeValues:StringEquals": {"aws:SourceArn": "*"}}, policy.UNKNOWN),
    ],
)
def test_iams_rules_for_operators_and_keys_the_request_lacks(condition: dict[str, Any], expected: str) -> None:
    statement = {"Effect": "Allow", "Principal": CLOUDTRAIL, "Action": "*", "Resource": "*", "Condition": condition}
    (acl_check, *_) = delivery().bucket_requests()
    assert policy.applies(parse({"Statement": [statement]}).statements[0], acl_check) == expected


def test_the_documented_key_policy_lets_cloudtrail_encrypt_and_describe() -> None:
    documented = {
        "Statement": [
            {
                "Sid": "Allow CloudTrail to encrypt logs",
                "Effect": "Allow",
                "Principal": CLOUDTRAIL,
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"
                    },
                    "StringEquals": {"aws:SourceArn": TRAIL},
                },
            },
            {
                "Sid": "Allow CloudTrail access",
                "Effect": "Allow",
                "Principal": CLOUDTRAIL,
                "Action": "kms:DescribeKey",
                "Resource": "*",
            },
        ]
    }
    assert outcomes(documented, delivery(key=KEY).key_requests()) == [ALLOWED, ALLOWED]
    other_account = json.loads(json.dumps(documented).replace(f":{ACCOUNT}:trail/*", ":999999999999:trail/*"))
    assert outcomes(other_account, delivery(key=KEY).key_requests()) == [DENIED, ALLOWED]


def test_the_cloudwatch_logs_role_trust_and_permissions() -> None:
    trail = delivery(
        log_group=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:trail", role=f"arn:aws:iam::{ACCOUNT}:role/cwl"
    )
    trust = {"Statement": [{"Effect": "Allow", "Principal": CLOUDTRAIL, "Action": "sts:AssumeRole"}]}
    assert (
        evaluate([parse(trust, trust=True)], trail.trust_request()).outcome == ALLOWED
    )  # no Resource in a trust policy
    assert evaluate([parse(trust)], trail.trust_request()).outcome == UNDECIDED  # elsewhere a statement needs one
    ec2 = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    assert evaluate([parse(ec2, trust=True)], trail.trust_request()).outcome == DENIED
    writes = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:trail:log-stream:*",
            }
        ]
    }
    identity = parse(writes)
    assert [evaluate([identity], r).outcome for r in trail.stream_requests()] == [ALLOWED, ALLOWED]
    elsewhere = parse(json.loads(json.dumps(writes).replace("log-group:trail:", "log-group:other:")))
    assert [evaluate([elsewhere], r).outcome for r in trail.stream_requests()] == [DENIED, DENIED]


def test_arn_segments_and_case() -> None:
    arn = "arn:aws:s3:::logs/AWSLogs/111122223333/CloudTrail/us-east-1/x.json.gz"
    assert policy.arn_matches("arn:aws:s3:::logs/*", arn) == policy.MATCH
    assert policy.arn_matches("arn:aws:s3:*", arn) == policy.MATCH  # a last-segment star reaches past the colons
    assert policy.arn_matches("arn:aws:s3", arn) == policy.NO_MATCH
    assert policy.arn_matches("arn:*:s3:::LOGS/*", arn) == policy.NO_MATCH  # resources are case-sensitive
    assert policy.arn_matches("arn:aws:kms:*:111122223333:key/*", KEY) == policy.MATCH
    assert policy.arn_matches("arn:aws:kms:*:999999999999:key/*", KEY) == policy.NO_MATCH
    assert policy.arn_matches("arn:aws:kms:us-*:111122223333:*", KEY) == policy.MATCH
    sns = {"Effect": "Allow", "Principal": CLOUDTRAIL, "Action": "SNS:Publish", "Resource": "*"}
    assert (
        evaluate([parse({"Statement": sns})], delivery(topic="arn:aws:sns:us-east-1:1:t").topic_request()).outcome
        == ALLOWED
    )


# --- wildcards ----------------------------------------------------------------------------------------------------


def _reference(pattern: str, value: str) -> bool:
    return (
        re.fullmatch("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), value, re.S)
        is not None
    )


@given(st.text(alphabet="ab*?:", max_size=8), st.text(alphabet="ab:", max_size=10))
def test_the_wildcard_scan_agrees_with_the_definition(pattern: str, value: str) -> None:
    assert glob(pattern, value) == _reference(pattern, value)


def test_a_pattern_that_would_make_a_regex_backtrack_for_minutes_is_scanned_at_once() -> None:
    # Whoever may edit a policy writes its patterns: a translated regex takes minutes on this one.
    assert not glob("*" * 40 + "Z" + "*" * 40, "a" * 5000)
    assert glob("*" * 40 + "a" + "*" * 40, "b" * 5000 + "a")


@pytest.mark.parametrize(
    ("pattern", "value"),
    [
        ("ab*ba", "aba"),  # the prefix and the suffix may not overlap
        ("*x*x", "ax"),  # a middle piece is found before the suffix, not inside it
        ("a*a*", "a"),  # ... and after the prefix
        ("*b*a*", "ab"),  # pieces are found in their order
        ("*a?", "ba"),  # after a failed try, the scan resumes at the star's next character
        ("a?*", "ab"),  # stars left over at the end match nothing
        ("*?", "aaa"),
        ("a*b?c", "aXbYbZc"),
    ],
)
def test_the_wildcard_scan_agrees_with_the_definition_where_pieces_could_overlap(pattern: str, value: str) -> None:
    assert glob(pattern, value) == _reference(pattern, value)


# --- ARNs, conditions and principals at their edges -----------------------------------------------------------

STREAM = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:trail:log-stream:{ACCOUNT}_CloudTrail_{REGION}"


@pytest.mark.parametrize(
    ("pattern", "arn", "expected"),
    [
        # Fewer than six segments: the segments before the last are matched one by one, the last reaches past
        # the colons.
        (f"arn:aws:logs:{REGION}:1111*", STREAM, policy.MATCH),
        ("arn:aws:logs:eu-west-1:1111*", STREAM, policy.NO_MATCH),
        (f"arn:aws:logs:{REGION}:9999*", STREAM, policy.NO_MATCH),
        (f"arn:aws:logs:{REGION}?1111*", STREAM, policy.MATCH),  # a "?" there matches a colon too
        ("*rn:aws:s3:::logs", "arn:aws:s3:::logs", policy.NO_MATCH),  # an ARN pattern starts with "arn"
        ("arn:aws:s3:::logs", "logs", policy.NO_MATCH),  # a bucket name alone is no ARN
    ],
)
def test_arn_patterns_segment_by_segment(pattern: str, arn: str, expected: str) -> None:
    assert policy.arn_matches(pattern, arn) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # A key the request's context does not describe cannot be told, even by Null.
        ({"Null": {"aws:SourceVpce": "true"}}, policy.UNKNOWN),
        # A family of keys declared absent (aws:PrincipalTag/...): every key under it is absent.
        ({"StringEquals": {"aws:PrincipalTag/team": "audit"}}, policy.NO_MATCH),
        ({"NullIfExists": {"s3:x-amz-acl": "true"}}, policy.UNKNOWN),  # Null takes no IfExists...
        ({"ForAnyValue:Null": {"s3:x-amz-acl": "true"}}, policy.UNKNOWN),  # ... and no set prefix
        ({"ForAnyValue:StringNotEquals": {"s3:x-amz-acl": "private"}}, policy.NO_MATCH),  # no value: none differs
        ({"StringEquals": {"aws:SecureTransport": True}}, policy.MATCH),  # a JSON boolean reads as "true"
        ({"StringEquals": {"aws:SourceArn": "${aws:SourceArn}"}}, policy.UNKNOWN),  # a policy variable
        ({"StringEquals": {"aws:SourceArn": {TRAIL: TRAIL}}}, policy.UNKNOWN),  # values that are no list
        ({"StringEquals": {"aws:SourceArn": [[TRAIL]]}}, policy.UNKNOWN),  # nor a list of strings
        ({"StringEquals": TRAIL}, policy.UNKNOWN),  # an operator naming no keys
    ],
)
def test_conditions_the_evaluator_cannot_read_are_unknown_and_absent_keys_decide(
    condition: dict[str, Any], expected: str
) -> None:
    statement = {"Effect": "Allow", "Principal": CLOUDTRAIL, "Action": "*", "Resource": "*", "Condition": condition}
    (acl_check, *_) = delivery().bucket_requests()
    assert policy.applies(parse({"Statement": [statement]}).statements[0], acl_check) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["a", "b"]}}, policy.MATCH),
        ({"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["a"]}}, policy.NO_MATCH),
        ({"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "b"}}, policy.MATCH),
        ({"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "c"}}, policy.NO_MATCH),
        ({"StringEquals": {"kms:EncryptionContextKeys": "a"}}, policy.UNKNOWN),  # single-valued on a set
    ],
)
def test_set_operators_on_a_key_with_several_values(condition: dict[str, Any], expected: str) -> None:
    statement = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": condition}
    request = Request("kms:Decrypt", KEY, {"kms:encryptioncontextkeys": ["a", "b"]})
    assert policy.applies(parse({"Statement": [statement]}).statements[0], request) == expected


@pytest.mark.parametrize(
    "element",
    [{"Principal": CLOUDTRAIL}, {"NotPrincipal": CLOUDTRAIL}, {"Principal": "*"}],
)
def test_an_identity_policy_statement_that_names_a_principal_cannot_be_told(element: dict[str, Any]) -> None:
    statement = {"Effect": "Allow", "Action": "logs:*", "Resource": "*", **element}
    (create_stream, _) = delivery(log_group=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:trail").stream_requests()
    assert policy.applies(parse({"Statement": [statement]}).statements[0], create_stream) == policy.UNKNOWN


def test_a_deny_with_not_principal_star_denies_no_one() -> None:
    nobody = {"Effect": "Deny", "NotPrincipal": "*", "Action": "*", "Resource": "*"}
    assert outcomes(with_statement(documented_bucket_policy(), nobody), delivery().bucket_requests()) == [ALLOWED] * 2


@pytest.mark.parametrize("action", [5, ["s3:*", 5], {"s3:*": True}])
def test_an_action_that_is_not_strings_cannot_be_told(action: object) -> None:
    statement = {"Effect": "Allow", "Principal": CLOUDTRAIL, "Action": action, "Resource": "*"}
    (acl_check, *_) = delivery().bucket_requests()
    assert policy.applies(parse({"Statement": [statement]}).statements[0], acl_check) == policy.UNKNOWN


# --- what a reader is told --------------------------------------------------------------------------------------

ACL_CHECK = "GetBucketAcl of the bucket"


def test_each_decision_names_the_policy_and_the_statement_that_made_it() -> None:
    (acl_check, *_) = delivery().bucket_requests()
    allow = {"Sid": "Read", "Effect": "Allow", "Principal": CLOUDTRAIL, "Action": "s3:GetBucketAcl", "Resource": "*"}
    allowed = evaluate([parse({"Statement": [allow]}, "the policy of bucket logs")], acl_check)
    assert allowed == policy.Decision(
        ALLOWED, f"{ACL_CHECK}: the policy of bucket logs allows it (statement 'Read')", ("statement 'Read'",)
    )
    denied = evaluate([parse({"Statement": [allow, {**allow, "Effect": "Deny", "Sid": ""}]}, "P")], acl_check)
    assert denied == policy.Decision(DENIED, f"{ACL_CHECK}: P denies it (statement 2)", ("statement 2",))
    maybe = {**allow, "Principal": {"AWS": "*"}}
    assert evaluate([parse({"Statement": [maybe]}, "P")], acl_check) == policy.Decision(
        UNDECIDED, f"{ACL_CHECK}: whether P's Allow (statement 'Read') applies cannot be told from here"
    )
    assert evaluate([parse({"Statement": []}, "A"), parse({"Statement": []}, "B")], acl_check) == policy.Decision(
        DENIED, f"{ACL_CHECK}: A or B does not allow it"
    )
    assert evaluate([], acl_check) == policy.Decision(DENIED, f"{ACL_CHECK}: no policy does not allow it")
    assert evaluate([parse({"Statement": []})], acl_check).reason == f"{ACL_CHECK}: the policy does not allow it"


@pytest.mark.parametrize(("sid", "shown"), [("S" * 60, "S" * 60), ("S" * 61, "S" * 57 + "...")])
def test_a_long_statement_id_is_shortened_to_sixty_characters(sid: str, shown: str) -> None:
    allow = {"Sid": sid, "Effect": "Allow", "Principal": CLOUDTRAIL, "Action": "s3:GetBucketAcl", "Resource": "*"}
    decision = evaluate([parse({"Statement": [allow]})], delivery().bucket_requests()[0])
    assert decision.statements == (f"statement {shown!r}",)


def _statements(count: int) -> dict[str, Any]:
    return {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "none:None", "Resource": "*"}] * count}


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        # The parser's message, shortened to sixty characters.
        ("{not json", "P is not JSON (Expecting property name enclosed in double quotes: line 1...)"),
        ("x" * (policy.MAX_POLICY_BYTES + 1), "P is larger than any policy AWS accepts"),
        (_statements(policy.MAX_STATEMENTS + 1), f"P has {policy.MAX_STATEMENTS + 1} statements"),
        (
            {"Statement": [{"Effect": "Allow"}, {"Effect": "Permit", "Action": "*"}]},
            "P: statement 2's Effect is 'Permit'",
        ),
    ],
    ids=["not-json", "too-large", "too-many-statements", "bad-effect"],
)
def test_a_policy_that_cannot_be_read_is_unknown_saying_why(document: object, problem: str) -> None:
    decision = evaluate([parse(document, "P")], delivery().bucket_requests()[0])
    assert decision == policy.Decision(UNDECIDED, f"{ACL_CHECK}: {problem}")


def test_a_policy_at_the_limits_is_read() -> None:
    assert len(parse(_statements(policy.MAX_STATEMENTS)).statements) == policy.MAX_STATEMENTS
    text = json.dumps(_statements(1))
    padded = text[:-1] + " " * (policy.MAX_POLICY_BYTES - len(text)) + "}"
    assert len(padded) == policy.MAX_POLICY_BYTES
    assert (parse(padded).problem, len(parse(padded).statements)) == ("", 1)
