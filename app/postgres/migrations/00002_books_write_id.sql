-- +goose Up
-- The id of the last write (a fresh UUID per UpdateBook call). A write
-- retried after its connection died checks it first, so an UPDATE that did
-- commit is not applied a second time (postgres/retry.go).
ALTER TABLE books ADD COLUMN write_id uuid;

-- +goose Down
ALTER TABLE books DROP COLUMN write_id;
