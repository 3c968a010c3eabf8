package metrics_test

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/books-platform/books/app/internal/emfspec"
	"github.com/books-platform/books/app/metrics"
)

// fixedClock always returns t0: the documents' timestamps are predictable.
func fixedClock(t0 time.Time) func() time.Time {
	return func() time.Time { return t0 }
}

// flushEvents flushes rec and parses every line with the specification
// checker.
func flushEvents(t *testing.T, rec *metrics.Recorder, out *bytes.Buffer) []*emfspec.Event {
	t.Helper()
	out.Reset()
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	var evs []*emfspec.Event
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		ev, err := emfspec.Parse([]byte(line))
		if err != nil {
			t.Fatalf("not valid EMF: %v\n%s", err, line)
		}
		evs = append(evs, ev)
	}
	return evs
}

func newRecorder(t *testing.T, out *bytes.Buffer, pool func() metrics.PoolStats) *metrics.Recorder {
	t.Helper()
	rec, err := metrics.New(metrics.Config{
		Namespace:  "BooksTest",
		Dimensions: map[string]string{"Stack": "dev", "Service": "books-api"},
		Out:        out,
		Pool:       pool,
		Now:        fixedClock(time.Date(2026, 12, 1, 20, 31, 0, 0, time.UTC)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestFlushWritesSpecValidDocuments(t *testing.T) {
	var out bytes.Buffer
	stats := metrics.PoolStats{Acquires: 10, Waits: 1, WaitTime: 5 * time.Millisecond, AcquireTime: 7 * time.Millisecond}
	rec := newRecorder(t, &out, func() metrics.PoolStats { return stats })
	for range 3 {
		rec.BookCreated()
	}
	rec.BookUpdated()
	rec.BookDeleted()
	rec.WriteConflict()
	rec.WriteConflict()
	rec.CacheHit()
	rec.CacheMiss()
	rec.CacheMiss()
	rec.CacheError()
	stats = metrics.PoolStats{Acquires: 25, Waits: 4, Canceled: 1, WaitTime: 65 * time.Millisecond, AcquireTime: 80 * time.Millisecond}
	rec.ObserveRequest("POST /book", 201, 12*time.Millisecond)
	rec.ObserveRequest("POST /book", 201, 14*time.Millisecond)
	rec.ObserveRequest("PUT /book/{bookId}", 412, 3*time.Millisecond)
	rec.ObserveRequest("GET /healthz", 200, 100*time.Microsecond)
	rec.ObserveRequest("GET /wp-admin", 404, time.Millisecond) // not a route: "other"

	evs := flushEvents(t, rec, &out)
	if len(evs) != 5 {
		t.Fatalf("want 1 counter document + 4 latency documents, got %d", len(evs))
	}
	c := evs[0]
	if c.Timestamp != time.Date(2026, 12, 1, 20, 31, 0, 0, time.UTC).UnixMilli() {
		t.Errorf("Timestamp %d is not the interval's start", c.Timestamp)
	}
	d := c.Directives[0]
	if d.Namespace != "BooksTest" || !slices.EqualFunc(d.Dimensions, [][]string{{"Stack", "Service"}}, slices.Equal) {
		t.Errorf("directive %+v", d)
	}
	if c.String("Stack") != "dev" || c.String("Service") != "books-api" {
		t.Errorf("dimension values %q %q", c.String("Stack"), c.String("Service"))
	}
	want := map[string]float64{
		"BooksCreated": 3, "BooksUpdated": 1, "BooksDeleted": 1, "WriteConflicts": 2,
		"CacheHits": 1, "CacheMisses": 2, "CacheErrors": 1,
		"DbPoolAcquires": 15, "DbPoolWaits": 3, "DbPoolWaitTime": 60, "DbPoolAcquireTime": 73, "DbPoolCanceledAcquires": 1,
	}
	units := map[string]string{}
	for _, m := range d.Metrics {
		units[m.Name] = m.Unit
	}
	for name, v := range want {
		if got, ok := c.Number(name); !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, v)
		}
	}
	if len(d.Metrics) != len(want) {
		t.Errorf("%d metric definitions, want %d", len(d.Metrics), len(want))
	}
	if units["DbPoolWaitTime"] != "Milliseconds" || units["BooksCreated"] != "Count" {
		t.Errorf("units %v", units)
	}

	type latency struct {
		route, class string
		sets         [][]string
		count        float64
	}
	var got []latency
	for _, ev := range evs[1:] {
		h, ok := ev.Histogram("RequestLatency")
		if !ok {
			t.Fatalf("no RequestLatency histogram in %v", ev.Root)
		}
		if u := ev.Directives[0].Metrics[0].Unit; u != "Milliseconds" {
			t.Errorf("RequestLatency unit %q", u)
		}
		got = append(got, latency{ev.String("Route"), ev.String("StatusClass"), ev.Directives[0].Dimensions, h.Count})
	}
	all := [][]string{{"Stack", "Service", "Route", "StatusClass"}, {"Stack", "Service", "StatusClass"}}
	wantLat := []latency{
		{"POST /book", "2xx", all, 2},
		{"PUT /book/{bookId}", "4xx", all, 1},
		{"GET /healthz", "2xx", all[:1], 1}, // probes stay out of the aggregate
		{"other", "4xx", all, 1},
	}
	if fmt.Sprint(got) != fmt.Sprint(wantLat) {
		t.Errorf("latency documents\n got %v\nwant %v", got, wantLat)
	}

	t.Run("NextIntervalStartsFromZero", func(t *testing.T) {
		evs := flushEvents(t, rec, &out)
		if len(evs) != 1 {
			t.Fatalf("an interval without requests wrote %d documents, want the counter document only", len(evs))
		}
		for _, m := range evs[0].Directives[0].Metrics {
			if v, _ := evs[0].Number(m.Name); v != 0 {
				t.Errorf("%s = %v after a flush, want 0", m.Name, v)
			}
		}
	})
}

func TestWithoutPoolNoPoolMetrics(t *testing.T) {
	var out bytes.Buffer
	rec := newRecorder(t, &out, nil)
	ev := flushEvents(t, rec, &out)[0]
	for _, m := range ev.Directives[0].Metrics {
		if strings.HasPrefix(m.Name, "DbPool") {
			t.Errorf("%s without a pool", m.Name)
		}
	}
}

// TestConcurrentRecordingLosesNothing records from many goroutines while
// flushing concurrently: the flushed totals equal what was recorded.
func TestConcurrentRecordingLosesNothing(t *testing.T) {
	var out bytes.Buffer
	rec := newRecorder(t, &out, nil)
	const workers, each = 8, 2000
	var wg sync.WaitGroup
	var flushed []*emfspec.Event
	var mu sync.Mutex
	stop := make(chan struct{})
	var flushes sync.WaitGroup
	flushes.Add(1)
	go func() {
		defer flushes.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			flushed = append(flushed, flushEvents(t, rec, &out)...)
			mu.Unlock()
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				rec.CacheHit()
				rec.ObserveRequest("GET /book/{bookId}", 200+100*(w%2), time.Duration(i)*time.Microsecond)
			}
		}()
	}
	wg.Wait()
	close(stop)
	flushes.Wait()
	flushed = append(flushed, flushEvents(t, rec, &out)...)
	var hits, requests float64
	for _, ev := range flushed {
		if n, ok := ev.Number("CacheHits"); ok {
			hits += n
		}
		if h, ok := ev.Histogram("RequestLatency"); ok {
			requests += h.Count
		}
	}
	if hits != workers*each || requests != workers*each {
		t.Fatalf("recorded %d hits and requests; flushed %v hits, %v requests over %d documents", workers*each, hits, requests, len(flushed))
	}
}

// TestHistogramPercentiles: percentiles computed from the Values/Counts the
// way CloudWatch does (nearest rank over the expanded values) are within
// 5 % of the exact ones on this spread of values (10 % at worst: the bin
// width); Count, Sum, Min and Max are exact, every value lies in
// [Min, Max], and a single observation is written as itself.
func TestHistogramPercentiles(t *testing.T) {
	var h metrics.Histogram
	var raw []float64
	for i := 1; i <= 10000; i++ {
		v := 0.05 * math.Pow(1.0009, float64(i)) // 0.05 ms … 400 ms
		raw = append(raw, v)
		h.Observe(v)
	}
	hvs := h.Values()
	if len(hvs) != 1 || len(hvs[0].Values) > 100 {
		t.Fatalf("%d histogram values", len(hvs))
	}
	hv := hvs[0]
	sort.Float64s(raw)
	var sum float64
	for _, v := range raw {
		sum += v
	}
	if hv.Count != 10000 || math.Abs(hv.Sum-sum) > 1e-6*sum || hv.Min != raw[0] || hv.Max != raw[len(raw)-1] {
		t.Fatalf("Count %d Sum %v Min %v Max %v; want 10000 %v %v %v", hv.Count, hv.Sum, hv.Min, hv.Max, sum, raw[0], raw[len(raw)-1])
	}
	for _, v := range hv.Values {
		if v < hv.Min || v > hv.Max {
			t.Errorf("value %v outside [%v, %v]", v, hv.Min, hv.Max)
		}
	}
	var one metrics.Histogram
	one.Observe(54.439896)
	if v := one.Values()[0].Values; len(v) != 1 || math.Abs(v[0]-54.439896) > 1e-4 {
		t.Errorf("one observation of 54.439896 written as %v", v)
	}
	for _, p := range []float64{0.5, 0.9, 0.99} {
		exact := raw[int(math.Ceil(p*float64(len(raw))))-1]
		rank, est := int64(math.Ceil(p*float64(hv.Count))), 0.0
		for i, c := range hv.Counts {
			if rank -= c; rank <= 0 {
				est = hv.Values[i]
				break
			}
		}
		if math.Abs(est-exact)/exact > 0.05 {
			t.Errorf("p%v: histogram %v, exact %v", p*100, est, exact)
		}
	}
}

// TestHistogramOver100BinsSplits: more distinct bins than one value may
// hold are written as several documents, none over 100 bins, with every
// observation kept.
func TestHistogramOver100BinsSplits(t *testing.T) {
	var out bytes.Buffer
	rec := newRecorder(t, &out, nil)
	n := 0
	for v := 0.001; v < 60000; v *= 1.1 { // 1 µs … 60 s: about 190 bins
		rec.ObserveRequest("GET /book", 200, time.Duration(v*float64(time.Millisecond)))
		n++
	}
	var count float64
	docs := 0
	for _, ev := range flushEvents(t, rec, &out)[1:] {
		h, _ := ev.Histogram("RequestLatency")
		count += h.Count
		docs++
	}
	if docs < 2 || count != float64(n) {
		t.Fatalf("%d observations over %d documents, flushed %v", n, docs, count)
	}
	// Docker splits log lines above 16 KiB into partial messages, which
	// CloudWatch would not parse as one document.
	for _, line := range strings.Split(out.String(), "\n") {
		if len(line) >= 16<<10 {
			t.Errorf("a %d-byte line", len(line))
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]metrics.Config{
		"NoOutput":         {},
		"UnknownDimension": {Out: &bytes.Buffer{}, Dimensions: map[string]string{"Stage": "x"}},
		"ShortInterval":    {Out: &bytes.Buffer{}, Interval: time.Millisecond},
		"LongNamespace":    {Out: &bytes.Buffer{}, Namespace: strings.Repeat("n", 256)},
		"AWSNamespace":     {Out: &bytes.Buffer{}, Namespace: "AWS/ECS"},
		"NamespaceChars":   {Out: &bytes.Buffer{}, Namespace: "books{prod}"},
		"BlankDimension":   {Out: &bytes.Buffer{}, Dimensions: map[string]string{"Stack": "  "}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := metrics.New(cfg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestCloseFlushesTheLastInterval(t *testing.T) {
	var out bytes.Buffer
	rec := newRecorder(t, &out, nil)
	rec.Start()
	rec.BookCreated()
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	ev, err := emfspec.Parse([]byte(strings.TrimSpace(out.String())))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := ev.Number("BooksCreated"); n != 1 {
		t.Fatalf("BooksCreated = %v after Close", n)
	}
}
