//go:build pprof

package main

// Built only with -tags pprof (bench/bench.sh PROFILE=1): net/http/pprof
// on PPROF_ADDR (default 127.0.0.1:6060), for profiling under load. The
// production image is built without the tag, so it has no such listener.

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	addr := os.Getenv("PPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil {
			slog.Error("pprof listener", "err", err.Error())
		}
	}()
}
