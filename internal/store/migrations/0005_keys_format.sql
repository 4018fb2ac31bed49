-- The format of an image's package keys (image_packages): what advisory.Keys filed it
-- under when it was stored. Images keyed by an older format are keyed again by the
-- next whole re-match, which the service queues at start when there are any (RHEL and
-- SUSE packages were not keyed at all before format 1).
ALTER TABLE images ADD COLUMN keys_format integer NOT NULL DEFAULT 0;
