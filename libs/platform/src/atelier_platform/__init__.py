"""Plumbing shared by Atelier's services. No domain code lives here."""
