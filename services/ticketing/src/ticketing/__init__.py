"""Atelier ticketing service: the 9.60 EUR round-trip train voucher."""

SOURCE = "/atelier/ticketing"
