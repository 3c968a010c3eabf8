package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Redis is a private redis-server on 127.0.0.1:Port that a test may stop
// and start again (the shared Redis is never touched).
type Redis struct {
	Port int
	t    testing.TB
	bin  string
	cmd  *exec.Cmd
}

// StartRedis starts a private redis-server and stops it when the test ends.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		missing(t, "redis-server", "apt-get install -y redis-server")
	}
	r := &Redis{Port: FreePort(t), t: t, bin: bin}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// URL is the redis:// URL of the server.
func (r *Redis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.Port) }

// Start (re)starts the server on the same port and waits until it accepts
// connections.
func (r *Redis) Start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "no")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", r.addr(), 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatalf("redis-server did not start on %s", r.addr())
}

// Stop kills the server (an abrupt outage) and waits for it to exit.
func (r *Redis) Stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		r.t.Errorf("stop redis-server: %v", err)
	}
	// Wait reports "signal: killed": the outage this method exists for.
	_ = r.cmd.Wait()
	r.cmd = nil
}

func (r *Redis) addr() string { return "127.0.0.1:" + strconv.Itoa(r.Port) }
