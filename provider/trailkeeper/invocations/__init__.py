"""The Lambda's doors besides the custom resource: direct runs, trail changes, audit runs, organization steps."""
