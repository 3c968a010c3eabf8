package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer counts the writes that reach the output.
type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

func (b *lockedBuffer) snapshot() (string, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String(), b.writes
}

// TestLineBufferBatchesWholeLines: lines from many goroutines arrive whole
// and in few writes, within the flush interval without a Close, and all of
// them on Close.
func TestLineBufferBatchesWholeLines(t *testing.T) {
	out := &lockedBuffer{}
	lb := newLineBuffer(out, 20*time.Millisecond)
	const writers, lines = 8, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				fmt.Fprintf(lb, `{"writer":%d,"line":%d,"pad":"%s"}`+"\n", w, i, strings.Repeat("x", 100))
			}
		}()
	}
	wg.Wait()

	// The timer flushes without a Close.
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _ := out.snapshot()
		if strings.Count(got, "\n") == writers*lines {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s only %d of %d lines reached the output", strings.Count(got, "\n"), writers*lines)
		}
		time.Sleep(5 * time.Millisecond)
	}
	got, writes := out.snapshot()
	for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		if !strings.HasPrefix(line, `{"writer":`) || !strings.HasSuffix(line, `"}`) {
			t.Fatalf("a line was split or interleaved: %q", line)
		}
	}
	if writes > writers*lines/10 {
		t.Errorf("%d lines took %d writes to the output; want batching (at most a tenth)", writers*lines, writes)
	}
	t.Logf("%d lines in %d writes", writers*lines, writes)

	// Close writes what is buffered at once.
	fmt.Fprintln(lb, "last")
	if err := lb.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := out.snapshot(); !strings.HasSuffix(got, "last\n") {
		t.Error("Close did not flush the last line")
	}
}
