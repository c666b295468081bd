CREATE TABLE vouchers (
    id                uuid PRIMARY KEY,
    -- The last line against duplicates: one voucher per registration.
    registration_id   uuid NOT NULL UNIQUE,
    code              text NOT NULL UNIQUE,
    holder_name       text NOT NULL,
    origin_station_id text NOT NULL,
    valid_on          date NOT NULL,
    price_eur         numeric(6, 2) NOT NULL,
    status            text NOT NULL CHECK (status IN ('issued', 'void', 'used')),
    issued_at         timestamptz NOT NULL DEFAULT now()
);
