-- +goose Up
-- Each application's audit entries form a hash chain, so an entry edited or
-- removed with SQL is found by `audit verify`. A link is appended whenever an
-- entry is written in a terminal status or its status changes (pending ->
-- succeeded or failed, and a replay's failed -> pending): an entry's latest
-- link hashes its current content. A link's hash is sha256(previous link's
-- hash || the entry's content hash); a chain's first link follows 32 zero
-- bytes. Triggers write the links in the transaction that writes the entry,
-- whatever code writes it, at no extra round trip.
--
-- Each application has 8 chains, its lanes: a transaction appends to the
-- lane of its connection (backend pid mod 8) and holds that lane's head until
-- it commits. With one chain, transactions writing entries of one application
-- (the group commit's parallel writers, the workers' completions) would wait
-- for each other's commit one at a time.
CREATE TABLE custom_gpt_audit_chain (
    app_id       text     NOT NULL,
    lane         smallint NOT NULL,
    seq          bigint   NOT NULL,
    entry_id     bigint   NOT NULL,
    content_hash bytea    NOT NULL,
    hash         bytea    NOT NULL,
    -- The order links were written in, across lanes: an entry's links are
    -- written one after another (its row is locked to change it), so its
    -- latest link is the one with the highest id.
    id           bigserial,
    PRIMARY KEY (app_id, lane, seq)
);
-- No index on entry_id or id: every audited call writes a link, and only
-- `audit verify` looks links up by entry, a whole application's at a time.

-- The last link of each chain: the row whose lock orders the appends, and
-- what a chain cut short is checked against.
CREATE TABLE custom_gpt_audit_chain_heads (
    app_id text     NOT NULL,
    lane   smallint NOT NULL,
    seq    bigint   NOT NULL,
    hash   bytea    NOT NULL,
    PRIMARY KEY (app_id, lane)
);

-- The content of an entry as its link hashes it (format 1): every column,
-- each as its byte length, ':' and its text, or '~' for NULL; times as
-- microseconds since the epoch. domain/audit.ContentHash computes the same
-- bytes; a test holds the two together.
-- +goose StatementBegin
CREATE FUNCTION custom_gpt_audit_field(v text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN v IS NULL THEN '~' ELSE octet_length(v)::text || ':' || v END
$$;
-- +goose StatementEnd

-- Microseconds since the epoch, exactly: before PostgreSQL 14 extract returns
-- a double, too short for them whole, so whole seconds and the microseconds
-- within them are taken apart.
-- +goose StatementBegin
CREATE FUNCTION custom_gpt_audit_micros(t timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT extract(epoch FROM date_trunc('second', t))::bigint * 1000000 + extract(microseconds FROM t)::bigint % 1000000
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION custom_gpt_audit_content(e custom_gpt_audit_entries) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT sha256(convert_to('custom_gpt_audit/1' ||
        custom_gpt_audit_field(e.id::text) ||
        custom_gpt_audit_field(e.app_id) ||
        custom_gpt_audit_field(e.end_user) ||
        custom_gpt_audit_field(e.action) ||
        custom_gpt_audit_field(e.status) ||
        custom_gpt_audit_field(e.request_id) ||
        custom_gpt_audit_field(nullif(e.operation_id, '')) ||
        custom_gpt_audit_field(e.detail) ||
        custom_gpt_audit_field(custom_gpt_audit_micros(e.occurred_at)::text) ||
        custom_gpt_audit_field(custom_gpt_audit_micros(e.completed_at)::text) ||
        custom_gpt_audit_field(e.correlation_id) ||
        custom_gpt_audit_field(e.channel) ||
        custom_gpt_audit_field(e.trace_id), 'UTF8'))
$$;
-- +goose StatementEnd

-- Appends a link per entry: apps, ids and contents (their content hashes)
-- side by side, ordered by application, then id, so that concurrent
-- statements lock the heads in one order. Each application's head is locked
-- once, and all links written in one insert.
-- +goose StatementBegin
CREATE FUNCTION custom_gpt_audit_chain_append(apps text[], ids bigint[], contents bytea[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    my_lane smallint := pg_backend_pid() % 8;
    app    text;
    s      bigint;
    h      bytea;
    seqs   bigint[] := '{}';
    hashes bytea[]  := '{}';
BEGIN
    FOR i IN 1 .. coalesce(array_length(ids, 1), 0) LOOP
        IF app IS DISTINCT FROM apps[i] THEN
            IF app IS NOT NULL THEN
                UPDATE custom_gpt_audit_chain_heads hd SET seq = s, hash = h WHERE hd.app_id = app AND hd.lane = my_lane;
            END IF;
            app := apps[i];
            INSERT INTO custom_gpt_audit_chain_heads AS hd (app_id, lane, seq, hash)
                VALUES (app, my_lane, 0, decode(repeat('00', 32), 'hex')) ON CONFLICT (app_id, lane) DO NOTHING;
            SELECT hd.seq, hd.hash INTO s, h FROM custom_gpt_audit_chain_heads hd
                WHERE hd.app_id = app AND hd.lane = my_lane FOR UPDATE;
        END IF;
        s := s + 1;
        h := sha256(h || contents[i]);
        seqs[i] := s;
        hashes[i] := h;
    END LOOP;
    IF app IS NOT NULL THEN
        UPDATE custom_gpt_audit_chain_heads hd SET seq = s, hash = h WHERE hd.app_id = app AND hd.lane = my_lane;
        INSERT INTO custom_gpt_audit_chain (app_id, lane, seq, entry_id, content_hash, hash)
            SELECT u_app, my_lane, u_seq, u_id, u_content, u_hash FROM unnest(apps, seqs, ids, contents, hashes) AS u(u_app, u_seq, u_id, u_content, u_hash);
    END IF;
END
$$;
-- +goose StatementEnd

-- A statement's entries, chained. Most statements write one entry (a search's
-- batch is often one search): its link is one statement, the head's row
-- locked by its upsert; more go through custom_gpt_audit_chain_append.
-- +goose StatementBegin
CREATE FUNCTION custom_gpt_audit_chain_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    apps     text[];
    ids      bigint[];
    contents bytea[];
BEGIN
    SELECT array_agg(n.app_id ORDER BY n.app_id, n.id), array_agg(n.id ORDER BY n.app_id, n.id),
        array_agg(custom_gpt_audit_content(n::custom_gpt_audit_entries) ORDER BY n.app_id, n.id)
        INTO apps, ids, contents
        FROM new_entries n WHERE n.status <> 'pending';
    IF array_length(ids, 1) = 1 THEN
        WITH head AS (
            INSERT INTO custom_gpt_audit_chain_heads AS hd (app_id, lane, seq, hash)
                VALUES (apps[1], pg_backend_pid() % 8, 1, sha256(decode(repeat('00', 32), 'hex') || contents[1]))
                ON CONFLICT (app_id, lane) DO UPDATE SET seq = hd.seq + 1, hash = sha256(hd.hash || contents[1])
                RETURNING hd.lane, hd.seq, hd.hash)
        INSERT INTO custom_gpt_audit_chain (app_id, lane, seq, entry_id, content_hash, hash)
            SELECT apps[1], head.lane, head.seq, ids[1], contents[1], head.hash FROM head;
    ELSIF ids IS NOT NULL THEN
        PERFORM custom_gpt_audit_chain_append(apps, ids, contents);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- An entry's status changes one row at a time (an operation's end, a
-- replay's reopen): a row trigger, called only when the status changed.
-- +goose StatementBegin
CREATE FUNCTION custom_gpt_audit_chain_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    content bytea := custom_gpt_audit_content(NEW);
BEGIN
    WITH head AS (
        INSERT INTO custom_gpt_audit_chain_heads AS hd (app_id, lane, seq, hash)
            VALUES (NEW.app_id, pg_backend_pid() % 8, 1, sha256(decode(repeat('00', 32), 'hex') || content))
            ON CONFLICT (app_id, lane) DO UPDATE SET seq = hd.seq + 1, hash = sha256(hd.hash || content)
            RETURNING hd.lane, hd.seq, hd.hash)
    INSERT INTO custom_gpt_audit_chain (app_id, lane, seq, entry_id, content_hash, hash)
        SELECT NEW.app_id, head.lane, head.seq, NEW.id, content, head.hash FROM head;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER custom_gpt_audit_chain_insert AFTER INSERT ON custom_gpt_audit_entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION custom_gpt_audit_chain_inserted();
CREATE TRIGGER custom_gpt_audit_chain_update AFTER UPDATE ON custom_gpt_audit_entries
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION custom_gpt_audit_chain_updated();

-- Entries written before the chain existed are chained now, in id order.
SELECT custom_gpt_audit_chain_append(array_agg(e.app_id ORDER BY e.app_id, e.id), array_agg(e.id ORDER BY e.app_id, e.id),
    array_agg(custom_gpt_audit_content(e) ORDER BY e.app_id, e.id))
FROM custom_gpt_audit_entries e WHERE e.status <> 'pending';

-- +goose Down
DROP TRIGGER custom_gpt_audit_chain_update ON custom_gpt_audit_entries;
DROP TRIGGER custom_gpt_audit_chain_insert ON custom_gpt_audit_entries;
DROP FUNCTION custom_gpt_audit_chain_updated();
DROP FUNCTION custom_gpt_audit_chain_inserted();
DROP FUNCTION custom_gpt_audit_chain_append(text[], bigint[], bytea[]);
DROP FUNCTION custom_gpt_audit_content(custom_gpt_audit_entries);
DROP FUNCTION custom_gpt_audit_field(text);
DROP FUNCTION custom_gpt_audit_micros(timestamptz);
DROP TABLE custom_gpt_audit_chain_heads;
DROP TABLE custom_gpt_audit_chain;
