-- depends: 0002_programme_waitlist_attendance

-- Registrations for one session in one statement: lock the session once, check each person, give
-- seats then places in the waiting line in the given order, store the registrations, and write the
-- session's counters once. One round trip for many people (asyncpg fetchmany sends a call per
-- session at once), and one new version of the session row per call instead of one per person —
-- on a popular session, walking those versions was half of the server's work.
-- Refusals are outcomes, not errors, so one refusal does not abort the others.
-- The caller holds the people's advisory locks.
CREATE FUNCTION take_places(p_session_id uuid, p_people jsonb)
RETURNS TABLE (
    registration_id uuid, outcome text, waitlist_position integer,
    title_fr text, title_nl text, title_en text,
    starts_at timestamptz, ends_at timestamptz, room text, language text
) LANGUAGE plpgsql
-- Its queries' plans do not depend on the arguments; planning each call cost 40% of the server's time.
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    s sessions;
    p record;
    refusal text;
BEGIN
    SELECT * INTO s FROM sessions WHERE id = p_session_id FOR UPDATE;
    refusal := CASE
        WHEN NOT FOUND THEN 'unknown_session'
        WHEN s.status = 'cancelled' THEN 'session_cancelled'
        WHEN s.starts_at <= now() THEN 'session_started'
    END;
    title_fr := s.title_fr;
    title_nl := s.title_nl;
    title_en := s.title_en;
    starts_at := s.starts_at;
    ends_at := s.ends_at;
    room := s.room;
    language := s.language;
    FOR p IN
        SELECT * FROM ROWS FROM (jsonb_to_recordset(p_people) AS (
            id uuid, code text, name text, email text, language text, wants_voucher boolean,
            origin_station_id text, phone text, profile text, company text, consent_to_contact boolean,
            manage_token_hash text, command_id uuid
        )) WITH ORDINALITY AS x (id, code, name, email, language, wants_voucher, origin_station_id, phone,
                                 profile, company, consent_to_contact, manage_token_hash, command_id, n)
        ORDER BY n
    LOOP
        registration_id := p.id;
        waitlist_position := NULL;
        IF refusal IS NOT NULL THEN
            outcome := refusal;
        ELSIF EXISTS (
            SELECT FROM registrations r JOIN sessions o ON o.id = r.session_id
            WHERE lower(r.email) = lower(p.email) AND r.status IN ('confirmed', 'waitlisted')
              AND (r.session_id = s.id OR (o.starts_at < s.ends_at AND o.ends_at > s.starts_at))
        ) THEN
            outcome := 'already_registered';
        ELSE
            -- The row lock taken above makes capacity a hard limit.
            IF s.seats_taken < s.capacity THEN
                s.seats_taken := s.seats_taken + 1;
                outcome := 'confirmed';
            ELSE
                s.waiting := s.waiting + 1;
                s.waitlist_seq := s.waitlist_seq + 1;
                outcome := 'waitlisted';
                waitlist_position := s.waiting;
            END IF;
            INSERT INTO registrations (id, code, session_id, name, email, language, wants_voucher,
                                       origin_station_id, phone, profile, company, consent_to_contact,
                                       manage_token_hash, status, waitlist_seq, command_id)
            VALUES (p.id, p.code, p_session_id, p.name, p.email, p.language, p.wants_voucher,
                    p.origin_station_id, p.phone, p.profile, p.company, p.consent_to_contact,
                    decode(p.manage_token_hash, 'hex'), outcome,
                    CASE WHEN outcome = 'waitlisted' THEN s.waitlist_seq END, p.command_id);
        END IF;
        RETURN NEXT;
    END LOOP;
    IF refusal IS NULL THEN
        UPDATE sessions SET seats_taken = s.seats_taken, waiting = s.waiting, waitlist_seq = s.waitlist_seq
        WHERE id = p_session_id;
    END IF;
END
$$;
