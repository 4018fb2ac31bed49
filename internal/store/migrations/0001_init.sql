-- dockaudit serve, schema version 1.

-- API tokens: only the SHA-256 of the token is kept.
CREATE TABLE tokens (
    id          bigserial PRIMARY KEY,
    hash        bytea NOT NULL UNIQUE,
    scope       text NOT NULL CHECK (scope IN ('read', 'submit', 'scan', 'admin')),
    name        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Work leased by replicas: SELECT … FOR UPDATE SKIP LOCKED, a lease that a heartbeat
-- extends, and a key that is pending at most once.
CREATE TABLE jobs (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL,
    key         text NOT NULL,
    payload     jsonb NOT NULL,
    state       text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts    integer NOT NULL DEFAULT 0,
    run_at      timestamptz NOT NULL DEFAULT now(),
    lease_owner text,
    lease_until timestamptz,
    last_error  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE UNIQUE INDEX jobs_pending_key ON jobs (key) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_ready ON jobs (run_at) WHERE state IN ('queued', 'running');

-- What reading one layer gave, keyed by its diff ID (the hash of its uncompressed
-- content) and the format of the record, so a layer shared by many images is read once.
CREATE TABLE layers (
    diff_id     text NOT NULL,
    format      integer NOT NULL,
    record      bytea NOT NULL,
    reads       integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (diff_id, format)
);

-- One row per image manifest (one platform): its collected facts, from which the
-- report is judged again on every read and after every advisory update, without
-- pulling; the summary and vulnerabilities of the last judgement, for listings.
CREATE TABLE images (
    digest      text PRIMARY KEY,
    registry    text NOT NULL,
    repository  text NOT NULL,
    platform    text NOT NULL DEFAULT '',
    facts       bytea NOT NULL,         -- JSON, zstd
    os          jsonb NOT NULL DEFAULT '{}',  -- facts.OS, to match packages without the facts
    checks      jsonb NOT NULL,         -- counts by status of the findings of every rule but VULN (the database changes none)
    covered     boolean NOT NULL,       -- every package was matched against an advisory source
    db_built    timestamptz,
    scanned_at  timestamptz NOT NULL,
    matched_at  timestamptz NOT NULL
);

-- Where each image was seen: registry, repository, tag (or '' for a digest only) and
-- the index that named it, when it came from a multi-platform index.
CREATE TABLE image_refs (
    registry    text NOT NULL,
    repository  text NOT NULL,
    tag         text NOT NULL,
    digest      text NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    index_digest text NOT NULL DEFAULT '',
    seen_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (registry, repository, tag, digest)
);
CREATE INDEX image_refs_digest ON image_refs (digest);

-- (ecosystem, package) → images, so an advisory update re-evaluates only the images
-- it can touch.
CREATE TABLE image_packages (
    digest      text NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    ecosystem   text NOT NULL,
    name        text NOT NULL,
    pkgs        jsonb NOT NULL DEFAULT '[]',  -- the image's packages looked up under the key
    PRIMARY KEY (digest, ecosystem, name)
);
CREATE INDEX image_packages_name ON image_packages (ecosystem, name);

-- The vulnerability findings of each image, for "where is CVE-X".
CREATE TABLE image_vulns (
    digest      text NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    vuln_id     text NOT NULL,
    aliases     text[] NOT NULL DEFAULT '{}',
    package     text NOT NULL,
    installed   text NOT NULL,
    fixed       text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT '',
    severity    text NOT NULL,
    path        text NOT NULL DEFAULT '',     -- the package URL: one row per package instance
    PRIMARY KEY (digest, vuln_id, package, installed, path)
);
CREATE INDEX image_vulns_id ON image_vulns (vuln_id);
CREATE INDEX image_vulns_aliases ON image_vulns USING gin (aliases);

-- Reports submitted by hosts (dockaudit host --submit), kept as history.
CREATE TABLE host_reports (
    id          bigserial PRIMARY KEY,
    host        text NOT NULL,
    submitted_at timestamptz NOT NULL DEFAULT now(),
    report      jsonb NOT NULL,
    summary     jsonb NOT NULL
);
CREATE INDEX host_reports_host ON host_reports (host, submitted_at DESC);

-- The outbox: events written in the transaction that caused them, delivered later.
CREATE TABLE events (
    id          bigserial PRIMARY KEY,
    key         text NOT NULL UNIQUE,
    kind        text NOT NULL,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE deliveries (
    event_id    bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    receiver    text NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    next_at     timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz,
    delivered_at timestamptz,
    last_error  text,
    PRIMARY KEY (event_id, receiver)
);
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE delivered_at IS NULL;

-- The advisory database the stored findings were matched against.
CREATE TABLE advisory_state (
    id          integer PRIMARY KEY CHECK (id = 1),
    built       timestamptz NOT NULL,
    sha256      text NOT NULL,
    sources     jsonb NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now()
);

-- The advisory database itself, in chunks, so every replica matches against the same
-- one without a shared disk.
CREATE TABLE advisory_db (
    sha256      text NOT NULL,
    chunk       integer NOT NULL,
    data        bytea NOT NULL,
    PRIMARY KEY (sha256, chunk)
);

-- Scans Harbor asked for through the pluggable scanner API.
CREATE TABLE harbor_scans (
    id          text PRIMARY KEY,
    registry    text NOT NULL,
    repository  text NOT NULL,
    digest      text NOT NULL,
    state       text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed')),
    error       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
