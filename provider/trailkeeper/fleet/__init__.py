"""Plan and apply across a fleet: declared-state files, the trails they cover in every region, the report."""
