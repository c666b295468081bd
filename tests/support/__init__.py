"""Helpers the tests share: reading Kafka topics, the SMTP maildir, the databases."""
