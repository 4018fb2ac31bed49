-- image_vulns is the table a re-match rewrites: every image's vulnerabilities, a few
-- hundred rows an image. Its foreign key to images costs a lookup per inserted row:
-- 40% of the time copying the rows takes in a first re-match (BenchmarkFleet). The rows are only ever written in the transaction that updates
-- their image, which checks the image is still stored. Nothing removes images; code
-- that comes to must delete their rows here too.
ALTER TABLE image_vulns DROP CONSTRAINT IF EXISTS image_vulns_digest_fkey;

-- A re-match of the packages an update changed reads and replaces an image's rows of
-- those packages: with the package second in the key, each (image, package) is one
-- range of the index instead of a walk over all the image's rows.
ALTER TABLE image_vulns DROP CONSTRAINT image_vulns_pkey;
ALTER TABLE image_vulns ADD PRIMARY KEY (digest, package, vuln_id, installed, path);
