"""Local stand-ins used by the tests, the demo and the benchmarks; never shipped in the Lambda package.

- `cfn_server`: a real HTTPS server (trustme certificate) standing in for CloudFormation's response URL.
- `lambda_context`: the context object Lambda passes to a handler, with a real clock.
- `world`: seeds moto (in-process or its server) with trails, a bucket, a topic, a KMS key, a log group.
- `fidelity`: makes moto's CloudTrail answer as CloudTrail does (selectors, Insights, tags, KMS, home region).
- `events`: loads the sample events under events/ and points them at a local response server.
"""
