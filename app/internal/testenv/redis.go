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
	// Dir is the server's working directory (its RDB file and AOF
	// directory); it survives Stop, so Start reloads what was persisted.
	Dir  string
	t    testing.TB
	bin  string
	args []string
	cmd  *exec.Cmd
}

// StartRedis starts a private redis-server and stops it when the test ends.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		missing(t, "redis-server", "apt-get install -y redis-server")
	}
	r := &Redis{Port: FreePort(t), Dir: t.TempDir(), t: t, bin: bin,
		args: []string{"--save", "", "--appendonly", "no"}}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// StartPersistentRedis is StartRedis with persistence settings (e.g.
// "--appendonly", "yes"): the data in Dir is loaded again by each Start, the
// way a restarted or failed-over server comes back with its snapshot.
func StartPersistentRedis(t testing.TB, args ...string) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		missing(t, "redis-server", "apt-get install -y redis-server")
	}
	r := &Redis{Port: FreePort(t), Dir: t.TempDir(), t: t, bin: bin, args: args}
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
	args := append([]string{"--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1",
		"--protected-mode", "no", "--dir", r.Dir}, r.args...)
	r.cmd = exec.Command(r.bin, args...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	// PONG, not just an accepted connection: a restarted server answers
	// LOADING while it reads its data back.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if r.pong() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatalf("redis-server did not start on %s", r.addr())
}

func (r *Redis) pong() bool {
	c, err := net.DialTimeout("tcp", r.addr(), 100*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return false
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	return err == nil && string(buf[:n]) == "+PONG\r\n"
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
