"""The organization layer: which accounts, with which credentials, and the per-account engine run in each."""
