package postgres_test

import (
	"context"
	"testing"

	"github.com/books-platform/books/app/postgres"
)

func TestPoolSize(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		cfg  postgres.Config
		want int32
	}{
		{"Default", postgres.Config{URL: testURL}, postgres.DefaultMaxConns()},
		{"Configured", postgres.Config{URL: testURL, MaxConns: 3}, 3},
		{"FromURL", postgres.Config{URL: testURL + "&pool_max_conns=5"}, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, err := postgres.Open(ctx, c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if got := db.Pool.Config().MaxConns; got != c.want {
				t.Fatalf("MaxConns = %d, want %d", got, c.want)
			}
		})
	}
	if n := postgres.DefaultMaxConns(); n < 8 {
		t.Fatalf("DefaultMaxConns = %d, want at least 8 (8 per CPU)", n)
	}
}
