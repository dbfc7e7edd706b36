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
];
