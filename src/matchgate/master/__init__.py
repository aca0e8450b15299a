"""The custodian's master file: the synthetic population generator (and, later, loading)."""
