"""The audit: controls and their judgement, the reads, findings and their formats, --fix, the Lambda audit's memory."""
