// Command floor is the benchmark's database floor: the least any Go server
// can do for the books API's database-bound requests. Each handler runs the
// app's own SQL (postgres/book.go) through a pgx pool of the app's default
// size and writes the row(s) as JSON — no authentication, validation,
// cache, logging, metrics or middleware. What it reaches on a machine is
// what PostgreSQL plus one round trip per request allow there; the app's
// uncached GET, list and POST are compared against it as well as against
// the ceiling (bench/bench.sh).
//
// GET /coalesced/{id} is the same read with concurrent requests coalesced
// into one `id = ANY($1)` query per round (a few rounds in flight): how much
// sharing the database round trip between reads would buy on top of the
// floor.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"net/http"
	"runtime"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/books-platform/books/app"
)

// book is the app's own type, so the floor writes the same JSON.
type book = books.Book

// columns and the statements are postgres/book.go's.
const columns = `id, title, author, year, created_at, updated_at, version, created_by, updated_by`

func scan(row pgx.Row) (*book, error) {
	var b book
	var id uuid.UUID
	err := row.Scan(&id, &b.Title, &b.Author, &b.Year, &b.CreatedAt, &b.UpdatedAt, &b.Version, &b.CreatedBy, &b.UpdatedBy)
	b.ID = id.String()
	return &b, err
}

// fail answers err: 404 for a missing row, 500 otherwise.
func fail(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	if errors.Is(err, pgx.ErrNoRows) {
		status = http.StatusNotFound
	}
	http.Error(w, err.Error(), status)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // a client gone mid-benchmark; wrk reports its own errors
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18086", "listen address (keep it on loopback)")
	dbURL := flag.String("db", "", "PostgreSQL URL of a database migrated by the app")
	flag.Parse()
	ctx := context.Background()
	pc, err := pgxpool.ParseConfig(*dbURL)
	if err != nil {
		log.Fatal(err)
	}
	pc.MaxConns = int32(max(4, 8*runtime.GOMAXPROCS(0))) // postgres.DefaultMaxConns
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		log.Fatal(err)
	}
	co := newCoalescer(pool, 4)

	http.HandleFunc("GET /book/{id}", func(w http.ResponseWriter, r *http.Request) {
		b, err := scan(pool.QueryRow(r.Context(), `SELECT `+columns+` FROM books WHERE id = $1`, r.PathValue("id")))
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, b)
	})
	http.HandleFunc("GET /coalesced/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b, err := co.find(id)
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, b)
	})
	http.HandleFunc("GET /book", func(w http.ResponseWriter, r *http.Request) {
		limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
		if err != nil {
			limit = 20
		}
		rows, err := pool.Query(r.Context(), `SELECT `+columns+` FROM books WHERE true ORDER BY created_at DESC, id DESC LIMIT $1`, limit+1)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*book, error) { return scan(row) })
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"books": list[:min(limit, len(list))]})
	})
	http.HandleFunc("POST /book", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Title  string `json:"title"`
			Author string `json:"author"`
			Year   int    `json:"year"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id, err := uuid.NewV7()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		b, err := scan(pool.QueryRow(r.Context(),
			`WITH now AS (SELECT clock_timestamp() AS ts)
			 INSERT INTO books (id, title, author, year, created_by, updated_by, created_at, updated_at)
			 SELECT $1, $2, $3, $4, $5, $5, now.ts, now.ts FROM now
			 RETURNING `+columns,
			id, in.Title, in.Author, in.Year, "books"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, http.StatusCreated, b)
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}

// coalescer shares one query between the reads waiting when a round starts.
// A read joins only a round not yet sent, so it still sees every write that
// committed before it began.
type coalescer struct {
	pool    *pgxpool.Pool
	pending chan lookup
}

type lookup struct {
	id    uuid.UUID
	reply chan result
}

type result struct {
	book *book
	err  error
}

// maxRound bounds the ids of one query.
const maxRound = 64

func newCoalescer(pool *pgxpool.Pool, rounds int) *coalescer {
	c := &coalescer{pool: pool, pending: make(chan lookup, 1024)}
	for range rounds {
		go c.loop()
	}
	return c
}

func (c *coalescer) find(id uuid.UUID) (*book, error) {
	reply := make(chan result, 1)
	c.pending <- lookup{id, reply}
	r := <-reply
	return r.book, r.err
}

func (c *coalescer) loop() {
	round := make([]lookup, 0, maxRound)
	ids := make([]uuid.UUID, 0, maxRound)
	for {
		round = append(round[:0], <-c.pending)
	fill:
		for len(round) < maxRound {
			select {
			case l := <-c.pending:
				round = append(round, l)
			default:
				break fill
			}
		}
		ids = ids[:0]
		for _, l := range round {
			ids = append(ids, l.id)
		}
		found, err := c.query(ids)
		for _, l := range round {
			r := result{book: found[l.id.String()], err: err}
			if err == nil && r.book == nil {
				r.err = pgx.ErrNoRows
			}
			l.reply <- r
		}
	}
}

func (c *coalescer) query(ids []uuid.UUID) (map[string]*book, error) {
	rows, err := c.pool.Query(context.Background(), `SELECT `+columns+` FROM books WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*book, error) { return scan(row) })
	found := make(map[string]*book, len(list))
	for _, b := range list {
		found[b.ID] = b
	}
	return found, err
}
