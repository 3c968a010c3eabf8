package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// lineBuffer batches the process's log and metric lines into few writes:
// one write(2) per line was a tenth of the CPU time of a cached GET under
// load (each request logs one access line). Lines reach the output at most
// logFlushInterval after they were written, when the buffer fills, and on
// Close; a crash (SIGKILL, an unrecovered panic outside a handler) loses at
// most that interval's lines. The awslogs driver batches for seconds
// anyway, so CloudWatch sees no difference.
//
// Each Write is one whole line (slog and the EMF encoder write a record per
// call), and all writes go through one lock, so lines are never interleaved.
type lineBuffer struct {
	mu      sync.Mutex
	w       *bufio.Writer
	timer   *time.Timer
	pending bool // a flush is scheduled
	every   time.Duration
	err     error // the first write error of the output
}

// logFlushInterval bounds how long a line waits in the buffer.
const logFlushInterval = 100 * time.Millisecond

func newLineBuffer(out io.Writer, every time.Duration) *lineBuffer {
	b := &lineBuffer{w: bufio.NewWriterSize(out, 64<<10), every: every}
	b.timer = time.AfterFunc(time.Hour, b.flushTimer)
	b.timer.Stop()
	return b
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.pending {
		b.pending = true
		b.timer.Reset(b.every)
	}
	n, err := b.w.Write(p)
	if err != nil && b.err == nil {
		b.err = err
	}
	return n, err
}

func (b *lineBuffer) flushTimer() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending = false
	if err := b.w.Flush(); err != nil && b.err == nil {
		b.err = err
	}
}

// Close writes what is buffered; the buffer stays usable (later lines are
// flushed by the timer as before).
func (b *lineBuffer) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.w.Flush(); err != nil && b.err == nil {
		b.err = err
	}
	return b.err
}
