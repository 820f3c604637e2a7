"""The drift-fix front door: declared-state files, the fleet engine, reports, the CLI and direct invocations."""
