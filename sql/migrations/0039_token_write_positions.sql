-- Read-your-writes with read replicas (KPI_DATABASE_READ_URL): the primary's WAL position
-- after the last write of each API token committed. The statement that looks a token up
-- reads it too, and a read by that token goes to a replica only once the replica has
-- replayed up to it.
--
-- Unlogged: only the primary reads it, and losing it with a crash or a failover loses nothing
-- that matters (a promoted replica has replayed everything it was sent).
create unlogged table token_write_position (
    token_id bigint primary key,
    lsn pg_lsn not null
);
