-- Run once by the postgres image, when its data folder is new (docker-entrypoint-initdb.d).
-- The two group roles `avellino init --grant-analyst/--grant-writer` grants (docs/postgres.md). Nobody logs in
-- as them: each analyst gets a login of their own that is a member, e.g.
--   CREATE ROLE j_smith LOGIN PASSWORD '...' IN ROLE avellino_analyst;
CREATE ROLE avellino_analyst NOLOGIN;
CREATE ROLE avellino_writer NOLOGIN;
