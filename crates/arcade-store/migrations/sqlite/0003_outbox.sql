-- Events wait here until the relay has published them to the bus: each is written in the
-- transaction of the change it reports (a score's) or before the request that made it is
-- answered, and deleted once the bus took it. `available_at` (ms since the epoch) is when the
-- relay may take it: at once for a ready event; later for a score's event held for its rank,
-- or for an event the relay leased and has not yet deleted.
CREATE TABLE outbox (
    id           TEXT    PRIMARY KEY,
    subject      TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    available_at INTEGER NOT NULL
);

CREATE INDEX outbox_available ON outbox (available_at);
