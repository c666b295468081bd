"""Atelier notifications service: every participant email."""

SOURCE = "/atelier/notifications"
