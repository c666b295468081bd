-- depends: 0003_take_places_function

-- One index, email first: it keeps one active registration per person and session, and it finds a
-- person's registrations for the overlap check. With (session_id, email) first, a plan made while
-- the table was empty walked that index whole for every check, for as long as the connection lived.
DROP INDEX registrations_one_active_per_email;
DROP INDEX registrations_by_email;
CREATE UNIQUE INDEX registrations_one_active_per_email
    ON registrations (lower(email), session_id) WHERE status IN ('confirmed', 'waitlisted');
-- A session's registrations (organiser cancellation, the report).
CREATE INDEX registrations_by_session ON registrations (session_id);
