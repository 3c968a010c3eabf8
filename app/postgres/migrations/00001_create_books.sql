-- +goose Up
CREATE TABLE books (
    id         uuid        PRIMARY KEY,
    title      text        NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    author     text        NOT NULL CHECK (length(author) BETWEEN 1 AND 200),
    year       integer     NOT NULL CHECK (year BETWEEN -3000 AND 2100),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    version    bigint      NOT NULL DEFAULT 1,
    created_by text        NOT NULL DEFAULT '',
    updated_by text        NOT NULL DEFAULT ''
);

-- Newest-first keyset pagination, with and without the author filter.
CREATE INDEX books_created_at_id_idx ON books (created_at DESC, id DESC);
CREATE INDEX books_author_created_at_id_idx ON books (author, created_at DESC, id DESC);

-- +goose Down
DROP TABLE books;
