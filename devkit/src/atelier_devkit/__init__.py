"""Atelier's development tools: the local stack launcher (`stack`, standard library only) and the
helpers that tests, benchmarks and the demo share (HTTP calls, Kafka events, mail, waiting, fault stacks)."""
