package metrics

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// PoolStats are the database pool's cumulative counters (pgxpool.Stat).
type PoolStats struct {
	Acquires, Waits, Canceled int64
	WaitTime, AcquireTime     time.Duration
}

// Config configures a Recorder.
type Config struct {
	// Namespace is the CloudWatch namespace (default from metrics.json).
	Namespace string
	// Dimensions are the values of the configured dimensions (Stack,
	// Service); missing ones take metrics.json's defaults.
	Dimensions map[string]string
	// Interval between flushes (default from metrics.json, 60 s). Flushes
	// happen on multiples of Interval of the wall clock, so each document
	// covers one interval and carries its start as timestamp.
	Interval time.Duration
	// Out receives one EMF document per line (the service's stdout).
	Out io.Writer
	// Pool, when set, is read at every flush; the differences between two
	// reads are the DbPool* metrics of the interval.
	Pool func() PoolStats
	// Logger reports a document that could not be written (never expected).
	Logger *slog.Logger
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// counter indexes.
const (
	cBooksCreated = iota
	cBooksUpdated
	cBooksDeleted
	cWriteConflicts
	cCacheHits
	cCacheMisses
	cCacheErrors
	nCounters
)

var counterNames = [nCounters]string{BooksCreated, BooksUpdated, BooksDeleted, WriteConflicts, CacheHits, CacheMisses, CacheErrors}

var poolNames = []string{DbPoolAcquires, DbPoolWaits, DbPoolWaitTime, DbPoolAcquireTime, DbPoolCanceledAcquires}

// Recorder aggregates the metrics of the current interval. Its recording
// methods are safe for concurrent use and cost an atomic add (counters) or
// a short critical section (latency).
type Recorder struct {
	cfg      Config
	dims     map[string]string
	counters [nCounters]atomic.Int64

	mu      sync.Mutex
	latency map[latencyKey]*Histogram

	// flushMu serialises flushes: the window, the pool baseline and the output.
	flushMu     sync.Mutex
	windowStart time.Time
	lastPool    PoolStats

	stop chan struct{}
	done chan struct{}
}

type latencyKey struct{ route, class string }

// New validates cfg and starts the first interval. Call Start to flush
// periodically and Close to flush what is left.
func New(cfg Config) (*Recorder, error) {
	if cfg.Out == nil {
		return nil, errors.New("metrics: Config.Out is required")
	}
	if cfg.Namespace == "" {
		cfg.Namespace = catalog.Namespace.Default
	}
	if cfg.Interval == 0 {
		d, err := time.ParseDuration(catalog.Interval.Default)
		if err != nil {
			return nil, fmt.Errorf("metrics.json interval: %w", err)
		}
		cfg.Interval = d
	}
	if cfg.Interval < time.Second {
		return nil, fmt.Errorf("metrics: interval %s is below 1s", cfg.Interval)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	dims := map[string]string{}
	for _, d := range catalog.Dimensions {
		dims[d.Name] = d.Default
		if v := cfg.Dimensions[d.Name]; v != "" {
			dims[d.Name] = v
		}
	}
	for k := range cfg.Dimensions {
		if _, ok := dims[k]; !ok {
			return nil, fmt.Errorf("metrics: unknown dimension %q (allowed: %v)", k, catalog.DimensionNames())
		}
	}
	r := &Recorder{cfg: cfg, dims: dims, latency: map[latencyKey]*Histogram{}, windowStart: cfg.Now()}
	if cfg.Pool != nil {
		r.lastPool = cfg.Pool()
	}
	// A configuration the encoder would reject fails here, not at the
	// first flush.
	if _, err := r.documents(r.windowStart, [nCounters]int64{}, PoolStats{}, nil); err != nil {
		return nil, err
	}
	return r, nil
}

// BookCreated, BookUpdated, BookDeleted and WriteConflict count writes.
func (r *Recorder) BookCreated()   { r.counters[cBooksCreated].Add(1) }
func (r *Recorder) BookUpdated()   { r.counters[cBooksUpdated].Add(1) }
func (r *Recorder) BookDeleted()   { r.counters[cBooksDeleted].Add(1) }
func (r *Recorder) WriteConflict() { r.counters[cWriteConflicts].Add(1) }

// CacheHit, CacheMiss and CacheError count cache reads by outcome (the
// redis package's Observer).
func (r *Recorder) CacheHit()   { r.counters[cCacheHits].Add(1) }
func (r *Recorder) CacheMiss()  { r.counters[cCacheMisses].Add(1) }
func (r *Recorder) CacheError() { r.counters[cCacheErrors].Add(1) }

// ObserveRequest records one response: route is the matched pattern (any
// pattern metrics.json does not list counts as "other"), d its duration.
func (r *Recorder) ObserveRequest(route string, status int, d time.Duration) {
	if !slices.Contains(catalog.Routes, route) {
		route = OtherRoute
	}
	k := latencyKey{route, statusClass(status)}
	ms := float64(d) / float64(time.Millisecond)
	r.mu.Lock()
	h := r.latency[k]
	if h == nil {
		h = &Histogram{}
		r.latency[k] = h
	}
	h.Observe(ms)
	r.mu.Unlock()
}

func statusClass(status int) string {
	switch {
	case status >= 500:
		return "5xx"
	case status >= 400:
		return "4xx"
	case status >= 300:
		return "3xx"
	default:
		return "2xx"
	}
}

// Start flushes at every interval boundary until Close.
func (r *Recorder) Start() {
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.done)
		for {
			now := r.cfg.Now()
			t := time.NewTimer(nextFlush(now, r.cfg.Interval).Sub(now))
			select {
			case <-r.stop:
				t.Stop()
				return
			case <-t.C:
				r.Flush()
			}
		}
	}()
}

// nextFlush is the first multiple of every after now (wall clock, UTC), so
// one-minute intervals coincide with CloudWatch's minutes.
func nextFlush(now time.Time, every time.Duration) time.Time {
	return now.Truncate(every).Add(every)
}

// Close stops the periodic flushes and flushes the current interval: call
// it after the HTTP server has drained, so the last requests are counted.
func (r *Recorder) Close() error {
	if r.stop != nil {
		close(r.stop)
		<-r.done
		r.stop = nil
	}
	return r.Flush()
}

// Flush writes the current interval's documents and starts a new interval.
// Counters are emitted every interval, zeros included, so ratios and
// alarms see a data point whenever the service runs.
func (r *Recorder) Flush() error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	var counts [nCounters]int64
	for i := range r.counters {
		counts[i] = r.counters[i].Swap(0)
	}
	r.mu.Lock()
	lat := r.latency
	r.latency = map[latencyKey]*Histogram{}
	r.mu.Unlock()
	var pool PoolStats
	if r.cfg.Pool != nil {
		now := r.cfg.Pool()
		pool = PoolStats{
			Acquires: now.Acquires - r.lastPool.Acquires, Waits: now.Waits - r.lastPool.Waits,
			Canceled: now.Canceled - r.lastPool.Canceled,
			WaitTime: now.WaitTime - r.lastPool.WaitTime, AcquireTime: now.AcquireTime - r.lastPool.AcquireTime,
		}
		r.lastPool = now
	}
	start := r.windowStart
	r.windowStart = r.cfg.Now()
	docs, err := r.documents(start, counts, pool, lat)
	if err != nil {
		r.cfg.Logger.Error("metrics: cannot encode", "err", err.Error())
		return err
	}
	// One Write per line: the log handler shares the writer, and a Write
	// on an *os.File is never interleaved with another one.
	for _, line := range docs {
		if _, err := r.cfg.Out.Write(append(line, '\n')); err != nil {
			r.cfg.Logger.Error("metrics: cannot write", "err", err.Error())
			return err
		}
	}
	return nil
}

// documents renders one interval: the counters (and pool metrics) in one
// document, then one document per route and status class seen.
func (r *Recorder) documents(start time.Time, counts [nCounters]int64, pool PoolStats, lat map[latencyKey]*Histogram) ([][]byte, error) {
	base := Document{Timestamp: start, Namespace: r.cfg.Namespace, Dimensions: r.dims}
	def, _ := catalog.Metric(BooksCreated)
	base.DimensionSets = def.Dimensions
	for i, n := range counts {
		base.Metrics = append(base.Metrics, r.value(counterNames[i], float64(n)))
	}
	if r.cfg.Pool != nil {
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		for i, v := range []float64{float64(pool.Acquires), float64(pool.Waits), ms(pool.WaitTime), ms(pool.AcquireTime), float64(pool.Canceled)} {
			base.Metrics = append(base.Metrics, r.value(poolNames[i], v))
		}
	}
	first, err := Encode(base)
	if err != nil {
		return nil, err
	}
	out := [][]byte{first}

	latDef, _ := catalog.Metric(RequestLatency)
	keys := make([]latencyKey, 0, len(lat))
	for k := range lat {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b latencyKey) int {
		if c := slices.Index(catalog.Routes, a.route) - slices.Index(catalog.Routes, b.route); c != 0 {
			return c
		}
		return slices.Index(catalog.StatusClasses, a.class) - slices.Index(catalog.StatusClasses, b.class)
	})
	for _, k := range keys {
		dims := map[string]string{DimRoute: k.route, DimStatusClass: k.class}
		for n, v := range r.dims {
			dims[n] = v
		}
		var sets [][]string
		for _, set := range latDef.Dimensions {
			// Health probes stay out of the all-routes aggregate.
			if slices.Contains(catalog.ProbeRoutes, k.route) && !slices.Contains(set, DimRoute) {
				continue
			}
			sets = append(sets, set)
		}
		for _, hv := range lat[k].Values() {
			b, err := Encode(Document{Timestamp: start, Namespace: r.cfg.Namespace, DimensionSets: sets, Dimensions: dims,
				Metrics: []Value{{Name: RequestLatency, Unit: latDef.Unit, Histogram: hv}}})
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
	}
	return out, nil
}

func (r *Recorder) value(name string, v float64) Value {
	def, _ := catalog.Metric(name)
	return Value{Name: name, Unit: def.Unit, Number: v}
}
