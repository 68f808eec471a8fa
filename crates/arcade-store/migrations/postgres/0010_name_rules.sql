-- The name deny list operators extend: words and patterns a new name may not contain.
-- `value` is the rule as written, `folded` what is matched against names' keys (so the same
-- word written in another spelling is the same rule). Small: read whole by every server.
CREATE TABLE name_rules (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       TEXT   NOT NULL CHECK (kind IN ('word', 'pattern')),
    value      TEXT   NOT NULL,
    folded     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT   NOT NULL,
    UNIQUE (kind, folded)
);
