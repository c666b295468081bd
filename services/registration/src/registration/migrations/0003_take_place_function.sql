-- depends: 0002_programme_waitlist_attendance

-- One registration in one statement: check the session and the person, take a seat or a place in
-- the waiting line, store the registration. One round trip instead of five, and many of them can
-- be sent in one go (asyncpg fetchmany). The caller holds the person's advisory lock.
-- Refusals are an outcome, not an error, so one refusal does not abort the others in a batch.
CREATE FUNCTION take_place(
    p_id uuid, p_code text, p_session_id uuid, p_name text, p_email text, p_language text,
    p_wants_voucher boolean, p_origin_station_id text, p_phone text, p_profile text, p_company text,
    p_consent_to_contact boolean, p_manage_token_hash bytea, p_command_id uuid,
    OUT outcome text, OUT waitlist_position integer,
    OUT title_fr text, OUT title_nl text, OUT title_en text,
    OUT starts_at timestamptz, OUT ends_at timestamptz, OUT room text, OUT language text
) LANGUAGE plpgsql
-- Its queries' plans do not depend on the arguments; planning each call cost 40% of the server's time.
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    s sessions;
BEGIN
    SELECT * INTO s FROM sessions WHERE id = p_session_id;
    IF NOT FOUND THEN
        outcome := 'unknown_session';
        RETURN;
    ELSIF s.status = 'cancelled' THEN
        outcome := 'session_cancelled';
        RETURN;
    ELSIF s.starts_at <= now() THEN
        outcome := 'session_started';
        RETURN;
    END IF;
    IF EXISTS (
        SELECT FROM registrations r JOIN sessions o ON o.id = r.session_id
        WHERE lower(r.email) = lower(p_email) AND r.status IN ('confirmed', 'waitlisted')
          AND (r.session_id = s.id OR (o.starts_at < s.ends_at AND o.ends_at > s.starts_at))
    ) THEN
        outcome := 'already_registered';
        RETURN;
    END IF;

    -- Atomic conditional updates: the row lock they take makes capacity a hard limit.
    UPDATE sessions SET seats_taken = seats_taken + 1
    WHERE id = p_session_id AND status = 'scheduled' AND sessions.starts_at > now() AND seats_taken < capacity
    RETURNING * INTO s;
    IF FOUND THEN
        outcome := 'confirmed';
    ELSE
        UPDATE sessions SET waiting = waiting + 1, waitlist_seq = waitlist_seq + 1
        WHERE id = p_session_id AND status = 'scheduled' AND sessions.starts_at > now()
        RETURNING * INTO s;
        IF NOT FOUND THEN  -- cancelled or started meanwhile
            SELECT * INTO s FROM sessions WHERE id = p_session_id;
            outcome := CASE WHEN s.status = 'cancelled' THEN 'session_cancelled' ELSE 'session_started' END;
            RETURN;
        END IF;
        outcome := 'waitlisted';
        waitlist_position := s.waiting;
    END IF;

    INSERT INTO registrations (id, code, session_id, name, email, language, wants_voucher, origin_station_id,
                               phone, profile, company, consent_to_contact, manage_token_hash, status,
                               waitlist_seq, command_id)
    VALUES (p_id, p_code, p_session_id, p_name, p_email, p_language, p_wants_voucher, p_origin_station_id,
            p_phone, p_profile, p_company, p_consent_to_contact, p_manage_token_hash, outcome,
            CASE WHEN outcome = 'waitlisted' THEN s.waitlist_seq END, p_command_id);
    title_fr := s.title_fr;
    title_nl := s.title_nl;
    title_en := s.title_en;
    starts_at := s.starts_at;
    ends_at := s.ends_at;
    room := s.room;
    language := s.language;
END
$$;
