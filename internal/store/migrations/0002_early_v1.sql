-- Version 1 changed while dockaudit serve was being written; a database a development
-- build migrated to it has the early layout. Bring it to the current one (on a database
-- made by the current version 1 this changes nothing). Images stored in the early layout
-- lack what a re-match of changed packages reads: they are dropped, and the next poll
-- scans them again.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_schema = current_schema() AND table_name = 'images' AND column_name = 'report') THEN
        DELETE FROM images;
        ALTER TABLE images DROP COLUMN report;
    END IF;
    IF EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_schema = current_schema() AND table_name = 'images' AND column_name = 'summary') THEN
        DELETE FROM images;
        ALTER TABLE images DROP COLUMN summary;
    END IF;
END $$;
ALTER TABLE images ADD COLUMN IF NOT EXISTS os jsonb NOT NULL DEFAULT '{}';
ALTER TABLE images ADD COLUMN IF NOT EXISTS checks jsonb NOT NULL DEFAULT '{}';
ALTER TABLE image_packages ADD COLUMN IF NOT EXISTS pkgs jsonb NOT NULL DEFAULT '[]';
ALTER TABLE image_vulns ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT '';
CREATE TABLE IF NOT EXISTS advisory_db (
    sha256      text NOT NULL,
    chunk       integer NOT NULL,
    data        bytea NOT NULL,
    PRIMARY KEY (sha256, chunk)
);
CREATE TABLE IF NOT EXISTS harbor_scans (
    id          text PRIMARY KEY,
    registry    text NOT NULL,
    repository  text NOT NULL,
    digest      text NOT NULL,
    state       text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed')),
    error       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
