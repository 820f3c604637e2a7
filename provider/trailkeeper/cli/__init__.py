"""The `trailkeeper` command: one module per command, the shared flags and the connection once."""
