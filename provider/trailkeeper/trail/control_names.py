"""The audit controls a trail's record serves, as the guard names them (and the audit will judge them). Pure.

Security Hub's AWS Foundational Security Best Practices and the CIS AWS Foundations Benchmark
(aws-facts.md, "Standards for CloudTrail"); where no control applies, the text says in words what is lost.
CIS numbers are v6.0's, the newest the audit judges (CloudWatch Logs has had no CIS control since v3.0);
tests/test_record.py holds them to the audit's own table, `compliance.CONTROLS`.
A weakening reads `<property> <change> breaks <control>`.
"""

from __future__ import annotations

READ, WRITE = "read", "write"  # the two kinds of events (readOnly true / false)
MANAGEMENT_EVENTS, DATA_EVENTS = "management events", "data events"  # the two dimensions selectors decide

CONTROL_RECORDING = "Security Hub CloudTrail.1, CIS 4.1"  # a multi-region trail logging read+write management events
CONTROL_ORGANIZATION = "Security Hub CloudTrail.1, CIS 4.1 in every member account"
CONTROL_VALIDATION = "Security Hub CloudTrail.4, CIS 4.2"
CONTROL_KMS = "Security Hub CloudTrail.2, CIS 4.5"
CONTROL_LOG_GROUP = "Security Hub CloudTrail.5"
CONTROL_TOPIC = "delivery notifications (the topic's subscribers no longer hear of new log files)"
CONTROL_INSIGHTS = "CloudTrail Insights (unusual call and error rates go unseen)"
CONTROL_S3_DATA = {WRITE: "CIS 4.8 (S3 object-level write events)", READ: "CIS 4.9 (S3 object-level read events)"}
CONTROL_DATA = "data events (activity on those resources goes unlogged)"
CONTROL_UNREAD = "what that selector logged (trailkeeper cannot read it exactly: keep it, or allow this)"
CONTROL_SWITCH = "what the trail records ({what})"
