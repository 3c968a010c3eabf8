package metrics

import (
	"testing"
	"time"
)

func TestNextFlushIsOnTheIntervalGrid(t *testing.T) {
	for _, c := range []struct {
		now, want string
		every     time.Duration
	}{
		{"20:31:00.000", "20:32:00.000", time.Minute},
		{"20:31:59.999", "20:32:00.000", time.Minute},
		{"20:31:07.250", "20:31:10.000", 10 * time.Second},
	} {
		now, _ := time.Parse("15:04:05.000", c.now)
		want, _ := time.Parse("15:04:05.000", c.want)
		if got := nextFlush(now, c.every); !got.Equal(want) {
			t.Errorf("nextFlush(%s, %s) = %s, want %s", c.now, c.every, got.Format("15:04:05.000"), c.want)
		}
	}
}
