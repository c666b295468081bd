"""Namespaces of the Postgres advisory locks the services take, one per kind of lock.

Always the two-key form, `pg_advisory_xact_lock(namespace, key)`: a key of one kind (a hashed
email, say) can then never collide with a key of another.
"""

PERSON = 0x9E450  # registration: one participant's registrations, key hashtext(lower(email))
TICKETING_REGISTRATION = 0x71C7  # ticketing: the events of one registration, key hashtext(registration id)
TICKETING_SESSION = 0x5E55  # ticketing: the vouchers of one session, key hashtext(session id); before any registration
ERASURE = 0xE7A5E  # ticketing, notifications: a registration's events (shared) against its erasure (exclusive)
