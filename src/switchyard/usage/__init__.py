"""The usage ledger: every request's record, written to the usage database off the request path."""
