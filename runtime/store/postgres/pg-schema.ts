// The PostgreSQL store's schema, one ordered list: the same tables as the SQLite journal and
// engine (journal-schema.ts, engine-schema.ts) plus what several runtimes need to share a
// database: a lease on every claimed run and the members of the cluster with their plan.
// Times are epoch milliseconds (bigint) as in SQLite; leases use the database's clock
// (hdc_now_ms) so runtimes with skewed clocks agree on when a lease ran out.

export interface PgMigration {
  /** Unique and stable forever. */
  id: string;
  up: string;
}

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    id: 'pg/001-journal',
    up: `
      CREATE FUNCTION hdc_now_ms() RETURNS bigint LANGUAGE sql VOLATILE
        AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;
      CREATE TABLE messages (
        id                bigserial PRIMARY KEY,
        sender            text   NOT NULL,
        control_id        text   NOT NULL,
        sending_system    text   NOT NULL DEFAULT '',
        content_hash      text,
        reuse_of          bigint,
        message_type      text   NOT NULL,
        trigger           text   NOT NULL,
        received_at       bigint NOT NULL,
        raw               bytea,
        charset           text   NOT NULL,
        status            text   NOT NULL,
        ack               text   NOT NULL,
        content_purged_at bigint,
        -- The resend key: two runtimes inserting the same message at once, one waits for the
        -- other's commit and finds its row (and its ACK) instead of journaling it twice.
        CONSTRAINT messages_resend_key UNIQUE (sender, control_id, content_hash)
      );
      CREATE INDEX messages_received_at ON messages (received_at);
    `,
  },
  {
    id: 'pg/002-workflow-runs',
    up: `
      CREATE TABLE workflow_runs (
        id              bigserial PRIMARY KEY,
        message_id      bigint NOT NULL REFERENCES messages (id),
        sender          text   NOT NULL,
        workflow        text   NOT NULL,
        -- The workflow's definition when the run was journaled: during a rolling upgrade only a
        -- runtime whose plan has this very definition claims the run.
        workflow_hash   text   NOT NULL,
        order_key       text,
        status          text   NOT NULL CHECK (status IN ('queued','running','done','rejected','failed','dead')),
        input           text,
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at bigint NOT NULL,
        outcome         text,
        error           text,
        claimed_by      text,
        lease_until     bigint,
        created_at      bigint NOT NULL,
        updated_at      bigint NOT NULL
      );
      -- Claims read ready runs in journal order; finished runs (most of the table) stay out of it.
      CREATE INDEX workflow_runs_claimable ON workflow_runs (id) WHERE status IN ('queued','failed');
      CREATE INDEX workflow_runs_message ON workflow_runs (message_id);
      -- Order keys: is there an earlier unfinished run with this key?
      CREATE INDEX workflow_runs_order ON workflow_runs (workflow, order_key, id)
        WHERE order_key IS NOT NULL AND status IN ('queued','running','failed');
      CREATE INDEX workflow_runs_lease ON workflow_runs (lease_until) WHERE status = 'running';
    `,
  },
  {
    id: 'pg/003-engine',
    up: `
      CREATE TABLE run_steps (
        run_id      bigint  NOT NULL,
        path        text    NOT NULL,
        step_id     text    NOT NULL,
        kind        text    NOT NULL,
        status      text    NOT NULL CHECK (status IN ('done','failed')),
        result      text,
        attempt     integer NOT NULL,
        started_at  bigint  NOT NULL,
        finished_at bigint  NOT NULL,
        error       text,
        PRIMARY KEY (run_id, path)
      );
      CREATE TABLE stored_records (
        id          bigserial PRIMARY KEY,
        collection  text   NOT NULL,
        key         text,
        value       text   NOT NULL,
        run_id      bigint,
        created_at  bigint NOT NULL,
        updated_at  bigint NOT NULL
      );
      CREATE UNIQUE INDEX stored_records_key ON stored_records (collection, key) WHERE key IS NOT NULL;
      CREATE TABLE run_attempts (
        run_id          bigint  NOT NULL,
        attempt         integer NOT NULL,
        started_at      bigint  NOT NULL,
        finished_at     bigint  NOT NULL,
        status          text    NOT NULL,
        step_path       text,
        api             text,
        http_status     integer,
        error           text,
        next_attempt_at bigint,
        PRIMARY KEY (run_id, attempt, finished_at)
      );
      CREATE TABLE run_replays (
        run_id        bigint  NOT NULL,
        at            bigint  NOT NULL,
        by            text    NOT NULL,
        after_attempt integer NOT NULL,
        from_start    integer NOT NULL,
        PRIMARY KEY (run_id, at, after_attempt)
      );
    `,
  },
  {
    id: 'pg/004-cluster-members',
    up: `
      CREATE TABLE cluster_members (
        runtime_id   text   PRIMARY KEY,
        plan_hash    text   NOT NULL,
        rolling      boolean NOT NULL,
        -- The workflow definitions this runtime's plan has (see pg-run-store.ts, claim).
        workflow_hashes text[] NOT NULL DEFAULT '{}',
        started_at   bigint NOT NULL,
        seen_at      bigint NOT NULL
      );
    `,
  },
  {
    // `ack after_workflow`: the partner's connection waits on one runtime, which must hear the
    // run's outcome, so the run is claimed there (its home) while that runtime is alive.
    id: 'pg/005-run-home',
    up: `ALTER TABLE workflow_runs ADD COLUMN home_runtime text;`,
  },
  {
    // The claim and the run ends (pg-run-store.ts) as functions, for their planner settings. The
    // claim must read ready runs in id order from the partial index workflow_runs_claimable,
    // stopping at the limit and skipping the entries of runs claimed since the last vacuum (an
    // index scan marks them dead); a run end must find its runs by primary key. On a young or
    // fast-growing table without statistics the planner otherwise prefers a bitmap scan, which
    // visits every index entry and sorts the whole backlog at every claim, or a sequential scan,
    // and a plan kept for the connection keeps that choice while the table grows. No JIT: its
    // compilation costs far more than these statements. plpgsql plans each statement once per
    // connection. A change to either is a new function, never a replacement: during a rolling
    // upgrade the previous runtimes keep calling theirs.
    id: 'pg/006-queue-functions',
    up: `
      CREATE FUNCTION hdc_claim_runs(at_ms bigint, known_hashes text[], max_runs integer, claimer text, lease_ms bigint, known_names text[])
        RETURNS SETOF workflow_runs LANGUAGE plpgsql
        SET enable_bitmapscan = off SET jit = off
      AS $$
      BEGIN
        RETURN QUERY
        WITH c AS (
          SELECT r.id FROM workflow_runs r
          WHERE r.status IN ('queued','failed') AND r.next_attempt_at <= at_ms
            AND (r.workflow_hash = ANY(known_hashes)
                 OR (r.workflow = ANY(known_names)
                     AND NOT EXISTS (SELECT 1 FROM cluster_members m
                                     WHERE r.workflow_hash = ANY(m.workflow_hashes) AND m.seen_at > hdc_now_ms() - 3 * lease_ms)
                     AND NOT EXISTS (SELECT 1 FROM run_steps s WHERE s.run_id = r.id)))
            AND (r.home_runtime IS NULL OR r.home_runtime = claimer OR NOT EXISTS (
                  SELECT 1 FROM cluster_members h WHERE h.runtime_id = r.home_runtime AND h.seen_at > hdc_now_ms() - 3 * lease_ms))
            AND (r.order_key IS NULL OR NOT EXISTS (
                  SELECT 1 FROM workflow_runs p
                  WHERE p.workflow = r.workflow AND p.order_key = r.order_key AND p.id < r.id
                    AND p.status IN ('queued','running','failed')))
          ORDER BY r.id
          LIMIT max_runs
          FOR UPDATE SKIP LOCKED)
        UPDATE workflow_runs w SET status = 'running', attempts = w.attempts + 1, claimed_by = claimer,
          lease_until = hdc_now_ms() + lease_ms, updated_at = at_ms
        FROM c WHERE w.id = c.id
        RETURNING w.*;
      END
      $$;

      -- Ends attempts of several runs: each run's status fenced by its claim ($7), its last step
      -- and its attempt's record written only where the fence held; returns the ids it held.
      CREATE FUNCTION hdc_finish_runs(bigint[], text[], text[], text[], bigint[], bigint[], text,
          bigint[], text[], text[], text[], text[], text[], integer[], bigint[], bigint[], text[],
          bigint[], integer[], bigint[], bigint[], text[], text[], text[], integer[], text[], bigint[])
        RETURNS SETOF bigint LANGUAGE plpgsql
        SET enable_seqscan = off SET enable_bitmapscan = off SET jit = off
      AS $$
      BEGIN
        RETURN QUERY
        WITH v AS (
          SELECT * FROM unnest($1, $2, $3, $4, $5, $6) AS v(id, status, outcome, error, next_attempt_at, now)),
        f AS (
          UPDATE workflow_runs w SET status = v.status, outcome = v.outcome, error = v.error, next_attempt_at = v.next_attempt_at,
            updated_at = v.now, claimed_by = NULL, lease_until = NULL
          FROM v WHERE w.id = v.id AND w.claimed_by = $7 AND w.status = 'running'
          RETURNING w.id),
        s AS (
          INSERT INTO run_steps (run_id, path, step_id, kind, status, result, attempt, started_at, finished_at, error)
          SELECT s.* FROM unnest($8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
            AS s(run_id, path, step_id, kind, status, result, attempt, started_at, finished_at, error)
          JOIN f ON f.id = s.run_id
          ON CONFLICT (run_id, path) DO UPDATE SET step_id = excluded.step_id, kind = excluded.kind, status = excluded.status,
            result = excluded.result, attempt = excluded.attempt, started_at = excluded.started_at, finished_at = excluded.finished_at, error = excluded.error),
        a AS (
          INSERT INTO run_attempts (run_id, attempt, started_at, finished_at, status, step_path, api, http_status, error, next_attempt_at)
          SELECT a.* FROM unnest($18, $19, $20, $21, $22, $23, $24, $25, $26, $27)
            AS a(run_id, attempt, started_at, finished_at, status, step_path, api, http_status, error, next_attempt_at)
          JOIN f ON f.id = a.run_id
          ON CONFLICT DO NOTHING)
        SELECT f.id FROM f;
      END
      $$;
    `,
  },
  {
    // A run's own writes (its steps, its end, each fenced by status = 'running') find its row by id.
    // While the lease index was partial on that very status, the planner read those writes from
    // it: a bitmap scan over every entry, and each claim adds one that stays until a vacuum. A
    // lease is set exactly while a run is running, so the index keeps its rows with another
    // predicate: the expired-lease sweep and the renewal still use it.
    id: 'pg/007-lease-index',
    up: `
      DROP INDEX workflow_runs_lease;
      CREATE INDEX workflow_runs_lease ON workflow_runs (lease_until) WHERE lease_until IS NOT NULL;
    `,
  },
  {
    // A message's bytes beyond ~2 KB are compressed as they are journaled; lz4 does it several
    // times faster than the default pglz, at a similar size. A server built without lz4, or older
    // than PostgreSQL 14 (no per-column compression: the statement does not parse), keeps pglz.
    id: 'pg/008-raw-lz4',
    up: `
      DO $$ BEGIN
        EXECUTE 'ALTER TABLE messages ALTER COLUMN raw SET COMPRESSION lz4';
      EXCEPTION WHEN feature_not_supported OR syntax_error THEN NULL;
      END $$;
    `,
  },
];
