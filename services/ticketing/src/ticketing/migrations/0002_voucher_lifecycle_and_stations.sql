-- Stations a voucher may start from; `python -m ticketing import-stations` replaces the list.
CREATE TABLE stations (
    id        text PRIMARY KEY,
    name_fr   text NOT NULL,
    name_nl   text NOT NULL,
    -- Lower-case, accent-free names, made by the same code that reads a search query.
    search_fr text NOT NULL,
    search_nl text NOT NULL
);

-- The voucher keeps its origin's names: a later station list must not change a voucher.
ALTER TABLE vouchers
    ADD COLUMN origin_name_fr text,
    ADD COLUMN origin_name_nl text,
    ADD COLUMN used_at        timestamptz,
    ADD COLUMN voided_at      timestamptz,
    ADD COLUMN void_reason    text;

-- Every registration ticketing saw cancelled, with or without a voucher: a confirmation or
-- promotion that arrives after its cancellation then issues nothing.
CREATE TABLE cancelled_registrations (
    registration_id uuid PRIMARY KEY,
    cancelled_by    text NOT NULL,
    cancelled_at    timestamptz NOT NULL DEFAULT now()
);

-- A registration that asked for a voucher and could not have one; it is told once.
CREATE TABLE voucher_rejections (
    registration_id   uuid PRIMARY KEY,
    origin_station_id text,
    reason            text NOT NULL,
    rejected_at       timestamptz NOT NULL DEFAULT now()
);
