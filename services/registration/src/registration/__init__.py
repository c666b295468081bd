"""Atelier registration service."""

SOURCE = "/atelier/registration"
