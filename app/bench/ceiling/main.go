// Command ceiling is the benchmark's upper bound: a minimal standard-library
// HTTP server that answers every request with a fixed JSON body (a real
// book's response, so the same size). Whatever the books API reaches is
// compared against what this reaches on the same machine.
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"strconv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18083", "listen address (keep it on loopback)")
	bodyFile := flag.String("body", "", "file holding the JSON body to serve")
	flag.Parse()
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		log.Fatal(err)
	}
	length := strconv.Itoa(len(body))
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", length)
		// A failed write is a client that went away mid-benchmark; the
		// benchmark client reports its own errors.
		_, _ = w.Write(body)
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
