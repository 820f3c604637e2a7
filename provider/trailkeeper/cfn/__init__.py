"""The CloudFormation front door: the custom resource, its events, its one answer and the watchdog behind it."""
