"""The AWS edge: clients, the retry policy and deadline, the error table, botocore's model, finding trails, pacing."""
