-- The containers a host report was made with and the images they run (dockaudit host
-- --submit sends them beside the report): "where is CVE-X" joins a host's latest
-- report to the stored images by image ID or manifest digest.
CREATE TABLE host_containers (
    report_id   bigint NOT NULL REFERENCES host_reports (id) ON DELETE CASCADE,
    name        text NOT NULL,
    id          text NOT NULL,
    state       text NOT NULL DEFAULT '',
    image       text NOT NULL DEFAULT '',     -- the name it was created from
    image_id    text NOT NULL,                -- the image's configuration digest
    digests     text[] NOT NULL DEFAULT '{}', -- the manifest digests the daemon knows it by
    PRIMARY KEY (report_id, id)
);
CREATE INDEX host_containers_image ON host_containers (image_id);
CREATE INDEX host_containers_digests ON host_containers USING gin (digests);
