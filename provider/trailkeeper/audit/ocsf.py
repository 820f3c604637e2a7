"""The audit report as OCSF 1.5 Detection Findings (`--format ocsf`): class_uid 2004, category_uid 2, one per
finding, with `compliance` (control, standards, status_id) as Security Hub and Security Lake ingest them."""

from __future__ import annotations

import hashlib
from typing import Any

from trailkeeper import __version__
from trailkeeper.audit.controls import STANDARDS
from trailkeeper.audit.facts import (
    ACCOUNT_RESOURCE_PREFIX,
    ACCOUNT_RESOURCE_TYPE,
    FAIL,
    NOT_AVAILABLE,
    PASS,
)
from trailkeeper.audit.findings import Audit, Finding

OCSF_VERSION = "1.5.0"
DETECTION_FINDING, FINDINGS_CATEGORY = 2004, 2
_COMPLIANCE_STATUS = {PASS: (1, "Pass"), FAIL: (3, "Fail"), NOT_AVAILABLE: (0, "Unknown")}
_SEVERITY = {PASS: (1, "Informational"), FAIL: (4, "High"), NOT_AVAILABLE: (1, "Informational")}
_RESOURCE_TYPES = {"cloudtrail:": "AWS::CloudTrail::Trail", "s3:": "AWS::S3::Bucket"}


def _resource_type(finding: Finding) -> str:
    if finding.resource.startswith(ACCOUNT_RESOURCE_PREFIX):
        return ACCOUNT_RESOURCE_TYPE  # as Security Hub types it (ASFF Resources)
    return _RESOURCE_TYPES.get(finding.resource.split(":", 3)[2] + ":", "Other")


def ocsf(audit: Audit, now_ms: int) -> list[dict[str, Any]]:
    """One OCSF Detection Finding per finding (`now_ms`: when the audit ran, epoch milliseconds)."""
    documents = []
    for finding in audit.findings:
        # The region too: an account's Id is the same in every region it is judged in.
        key = f"{finding.standard}/{finding.control}/{finding.resource}/{finding.region}"
        uid = hashlib.sha256(key.encode()).hexdigest()[:32]
        compliance_id, compliance = _COMPLIANCE_STATUS[finding.status]
        severity_id, severity = _SEVERITY[finding.status]
        documents.append(
            {
                "class_uid": DETECTION_FINDING,
                "class_name": "Detection Finding",
                "category_uid": FINDINGS_CATEGORY,
                "category_name": "Findings",
                "activity_id": 1,
                "activity_name": "Create",
                "type_uid": DETECTION_FINDING * 100 + 1,
                "type_name": "Detection Finding: Create",
                "time": now_ms,
                "severity_id": severity_id,
                "severity": severity,
                "status_id": 1,
                "status": "New",
                "status_code": finding.status,
                "status_detail": finding.reason,
                "message": f"{finding.control} {finding.status}: {finding.reason}",
                "metadata": {
                    "version": OCSF_VERSION,
                    "product": {"name": "trailkeeper", "vendor_name": "trailkeeper", "version": __version__},
                    "event_code": finding.control,
                    "profiles": ["cloud"],
                },
                "finding_info": {
                    "uid": f"trailkeeper-{uid}",
                    "title": f"{finding.control} {finding.title}",
                    "desc": finding.reason,
                    "created_time": now_ms,
                    "types": [STANDARDS[finding.standard]],
                },
                "compliance": {
                    "control": finding.control,
                    "standards": [STANDARDS[finding.standard]],
                    "requirements": [finding.control],
                    "status_id": compliance_id,
                    "status": compliance,
                },
                "remediation": {"desc": finding.remedy},
                "resources": [
                    {
                        "uid": finding.resource,
                        "type": _resource_type(finding),
                        "region": finding.region,
                        "cloud_partition": finding.partition,
                        **({"data": {"fix": dict(finding.fix)}} if finding.fix is not None else {}),
                    }
                ],
                "cloud": {
                    "provider": "AWS",
                    "region": finding.region,
                    **(
                        {
                            "account": {
                                "uid": finding.account,
                                "name": finding.account,
                                "type_id": 10,
                                "type": "AWS Account",
                            }
                        }
                        if finding.account
                        else {}
                    ),
                },
                **({"unmapped": {"warnings": list(finding.warnings)}} if finding.warnings else {}),
            }
        )
    return documents
