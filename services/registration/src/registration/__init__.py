"""Atelier registration service."""

SOURCE = "/atelier/registration"
GROUP = "registration"
