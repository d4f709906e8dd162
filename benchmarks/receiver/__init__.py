"""Throughput benchmark of the receiver's POST /heartbeat; see README.md here."""
