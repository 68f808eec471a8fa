-- Events wait here until a relay has published them to the bus: each is written in the
-- transaction of the change it reports (a score's, in the score's statement) or before the
-- request that made it is answered, and deleted once JetStream acknowledged it. `available_at`
-- (ms since the epoch) is when a relay may take it: at once for a ready event; later for a
-- score's event held for its rank, or for an event a relay leased and has not yet deleted.
CREATE TABLE outbox (
    id           UUID   PRIMARY KEY,
    subject      TEXT   NOT NULL,
    payload      TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    available_at BIGINT NOT NULL
);

CREATE INDEX outbox_available ON outbox (available_at);
