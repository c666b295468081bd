"""Participant pages: server-rendered HTML over registration's and ticketing's public HTTP APIs."""
