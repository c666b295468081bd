"""Helpers only the tests use (ticketing and browser fixtures, containers, manifests); those the benchmarks,
the demo and the smoke run share live in the atelier_devkit package."""
