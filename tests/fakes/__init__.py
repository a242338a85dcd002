"""Fakes for tests: upstream servers that speak providers' real wire formats on 127.0.0.1,
recorded payloads, and schema validators."""
