"""Export: existing trails read as declarations, written as state files or CloudFormation templates."""
