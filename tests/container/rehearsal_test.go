//go:build container

package container

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/books-platform/books/tests/harness"
)

// The rehearsal's own names in the engine: it only ever touches these
// images and containers (and the stand-in bases' tags).
const (
	appRepo          = "books-rehearsal/books"
	containerPrefix  = "books-rehearsal-"
	hostAlias        = "host.docker.internal"
	machinePostgres  = "127.0.0.1:5432"
	machineRedis     = "127.0.0.1:6379"
	imageSizeTarget  = 20_000_000 // bytes (20 MB)
	readyTarget      = 300 * time.Millisecond
	standInsDisclose = "STAND-IN BASES (no registry reachable): %s = Debian %s minbase + the machine's %s; %s = FROM scratch + Debian's ca-certificates and tzdata + users root/nobody/nonroot(65532) — neither is the real image"
)

// need fails under CI=true and skips loudly elsewhere, for a missing
// engine or program (the rule for make container-test).
func need(t *testing.T, what string, err error) {
	t.Helper()
	msg := fmt.Sprintf("REQUIRED PROGRAM MISSING: %s: %v", what, err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	fmt.Println(msg)
	fmt.Println("container rehearsal SKIPPED because CI is not set")
	t.Skip(msg)
}

// lock serialises rehearsals on one engine: the stand-in bases' shared
// tags are switched between platforms during a run.
func lock(t *testing.T) {
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "books-container-rehearsal.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
}

type measurements struct {
	lines []string
}

func (m *measurements) add(format string, args ...any) {
	m.lines = append(m.lines, fmt.Sprintf(format, args...))
}

func TestContainerRehearsal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Minute)
	defer cancel()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	appDir := filepath.Join(root, "app")
	eng := NewEngine(os.Getenv("BOOKS_DOCKER_SOCKET"))
	ver, err := eng.Ping(ctx)
	if err != nil {
		need(t, "a Docker engine (apt-get install docker.io; start dockerd as root — .ci/run and tests/container/engine.sh do)", err)
	}
	builder, err := FindBuilder(eng.Socket)
	if err != nil {
		need(t, "a BuildKit-capable docker client", err)
	}
	for _, prog := range []string{"psql", "curl", "jq"} {
		if _, err := exec.LookPath(prog); err != nil {
			need(t, prog, err)
		}
	}
	lock(t)
	var m measurements
	t.Cleanup(func() {
		fmt.Println("\n=== container rehearsal: measurements ===")
		for _, l := range m.lines {
			fmt.Println("  " + l)
		}
	})
	t.Logf("engine %s (API %s, %s/%s), builds with %s (buildx: %v)", ver.Version, ver.APIVersion, ver.Os, ver.Arch, builder.Client, builder.Buildx)
	native := "linux/" + ver.Arch

	// The task definition the program generates for dev.
	tu := devTask(t, "dev")
	c := tu.container
	t.Logf("task definition %s (from the mocked graph of dev): cpu %d, memory %d MiB; container %s: %s", tu.family, tu.cpu, tu.mem, c.Name, tu.definition)

	// Stand-in bases, then the real Dockerfile for both platforms.
	bases, err := ParseBases(filepath.Join(appDir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !bases.BuildOnBuildPlatform {
		t.Errorf("the build stage %s is not FROM --platform=$BUILDPLATFORM: the linux/arm64 image would need an emulated Go toolchain", bases.Build)
	}
	suite, err := DebianSuite(bases.Final)
	if err != nil {
		t.Fatal(err)
	}
	goVer, err := goVersion("/usr/local/go")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf(standInsDisclose+"\n", bases.Build, suite, goVer, bases.Final)
	work := t.TempDir()
	si := &StandIns{Engine: eng, Builder: builder, Mirror: envOr("BOOKS_DEBIAN_MIRROR", "http://deb.debian.org/debian"),
		GoRoot: "/usr/local/go", WorkDir: work, Log: t.Logf}
	minbase, err := si.Minbase(ctx, suite)
	if err != nil {
		if strings.Contains(err.Error(), errMissing.Error()) {
			need(t, "debootstrap", err)
		}
		t.Fatal(err)
	}
	if err := si.Golang(ctx, bases.Build, minbase, appDir); err != nil {
		t.Fatal(err)
	}
	images := map[string]string{}
	for _, platform := range []string{native, "linux/arm64"} {
		if _, done := images[platform]; done {
			continue
		}
		static, err := si.Static(ctx, bases.Final, minbase, platform)
		if err != nil {
			t.Fatal(err)
		}
		if err := si.Activate(ctx, static, bases.Final); err != nil {
			t.Fatal(err)
		}
		tag := appRepo + ":dev-" + strings.TrimPrefix(platform, "linux/")
		old, _ := eng.Image(ctx, tag)
		res, err := builder.Build(ctx, BuildRequest{Context: appDir, Platform: platform, Tag: tag})
		if err != nil {
			t.Fatalf("building app/ for %s: %v", platform, err)
		}
		removeReplaced(ctx, eng, old, tag)
		m.add("build %s: %s (%d of %d steps cached)", platform, res.Duration.Round(100*time.Millisecond), res.Cached, res.Steps)
		images[platform] = tag
		if platform == native {
			warm, err := builder.Build(ctx, BuildRequest{Context: appDir, Platform: platform, Tag: tag})
			if err != nil {
				t.Fatal(err)
			}
			m.add("build %s warm (unchanged app/): %s (%d of %d steps cached)", platform, warm.Duration.Round(100*time.Millisecond), warm.Cached, warm.Steps)
		}
	}
	for ref, d := range si.Built {
		m.add("stand-in %s built this run: %s (one-time; reused from the engine afterwards)", ref, d.Round(time.Second))
	}
	if len(si.Built) == 0 {
		m.add("stand-in bases: reused from the engine (recipe labels matched)")
	}

	t.Run("Images", func(t *testing.T) { checkImages(t, ctx, eng, images, native, c, &m) })
	if t.Failed() {
		return
	}

	// The machine's services, as the container sees them.
	gw, err := eng.BridgeGateway(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ssl := psql(t, "postgres", "SHOW ssl"); ssl != "on" {
		t.Fatalf("the machine's PostgreSQL has ssl=%s, but the task definition's PGSSLMODE=%s needs TLS", ssl, Value(envOf(c), "PGSSLMODE"))
	}
	db := fmt.Sprintf("books_rehearsal_%d", os.Getpid())
	psql(t, "postgres", "DROP DATABASE IF EXISTS "+db)
	psql(t, "postgres", "CREATE DATABASE "+db)
	t.Cleanup(func() { psql(t, "postgres", "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)") })
	pgRelay := startRelay(t, gw, machinePostgres)
	redisRelay := startRelay(t, gw, machineRedis)
	local := Local{Host: hostAlias, PgPort: pgRelay.Port(), RedisPort: redisRelay.Port(), PgDatabase: db}
	var sm *SecretsManager
	if arn := Value(envOf(c), "DB_SECRET_ARN"); arn != "" {
		// RDS-managed secret JSON; the machine's PostgreSQL trusts
		// 127.0.0.1, so only the user name matters.
		sm, err = StartSecretsManager(gw, arn, `{"username":"postgres","password":"rehearsal-test-password"}`)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sm.Close() })
		local.SecretsManagerURL = strings.Replace(sm.URL, gw, hostAlias, 1)
	}
	overrides, additions := LocalOverrides(local)
	env, err := c.ResolveEnv(tu.secretOf, overrides, additions)
	if err != nil {
		t.Fatal(err)
	}
	printEnv(t, env)

	hostPorts := map[int]int{}
	for _, p := range c.PortMappings {
		hostPorts[p.ContainerPort] = freePort(t)
	}
	if len(c.PortMappings) != 1 {
		t.Fatalf("the task maps %d ports; the rehearsal drives one", len(c.PortMappings))
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", hostPorts[c.PortMappings[0].ContainerPort])
	spec := RunSpec{Image: images[native], Env: env, HostPorts: hostPorts, ExtraHosts: []string{hostAlias + ":host-gateway"},
		TaskCpu: tu.cpu, TaskMemory: tu.mem, Labels: map[string]string{"books.rehearsal": tu.family}}
	name := fmt.Sprintf("%s%d", containerPrefix, os.Getpid())
	_ = eng.RemoveContainer(ctx, name)

	start := time.Now()
	id, err := eng.CreateContainer(ctx, name, c.CreateConfig(spec))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			if logs, err := eng.Logs(context.Background(), id); err == nil {
				t.Logf("container logs:\n%s", tail(logs, 60))
			}
		}
		if err := eng.RemoveContainer(context.Background(), id); err != nil {
			t.Errorf("removing the container: %v", err)
		}
	})
	created := time.Now()
	if err := eng.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	ready, err := waitReady(ctx, eng, id, base)
	if err != nil {
		t.Fatal(err)
	}
	m.add("docker run → /readyz 200, first start (fresh database: migrations applied): %s = create %s + start %s + until ready %s (target < %s; PostgreSQL was reachable before the run; task cpu %d units)",
		ready.Sub(start).Round(time.Millisecond), created.Sub(start).Round(time.Millisecond), started.Sub(created).Round(time.Millisecond),
		ready.Sub(started).Round(time.Millisecond), readyTarget, tu.cpu)
	if logs, err := eng.Logs(ctx, id); err == nil {
		t.Logf("start-up log (ms after the first line):\n%s", startupLog(logs))
	}

	t.Run("HealthAndReadiness", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz"} {
			if code := get(t, base+path); code != http.StatusOK {
				t.Errorf("GET %s = %d, want 200", path, code)
			}
		}
	})
	t.Run("HealthCheckCommandInsideImage", func(t *testing.T) { checkHealthCommand(t, ctx, eng, id, c) })
	t.Run("ProcessIdentity", func(t *testing.T) { checkProcess(t, ctx, eng, id, c) })
	t.Run("SmokeTest", func(t *testing.T) {
		cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "smoke-test.sh"), "--url", base, "--skip-token")
		cmd.Env = append(os.Environ(), "BASIC_AUTH_PASSWORD="+Value(env, "BASIC_AUTH_PASSWORD"))
		out, err := cmd.CombinedOutput()
		t.Logf("scripts/smoke-test.sh --url %s --skip-token:\n%s", base, out)
		if err != nil {
			t.Fatalf("smoke test: %v", err)
		}
	})
	t.Run("DependenciesReached", func(t *testing.T) {
		if pgRelay.Conns() == 0 || redisRelay.Conns() == 0 {
			t.Errorf("connections through the relays: PostgreSQL %d, Redis %d; want both > 0", pgRelay.Conns(), redisRelay.Conns())
		}
		if sm != nil && (sm.Reads() == 0 || sm.Refused() != 0) {
			t.Errorf("Secrets Manager stand-in: %d reads of DB_SECRET_ARN, %d refused requests; want > 0 and 0", sm.Reads(), sm.Refused())
		}
	})
	t.Run("DockerHealthStatus", func(t *testing.T) { checkDockerHealth(t, ctx, eng, id, c) })
	t.Run("NothingWrittenToFilesystem", func(t *testing.T) {
		changes, err := eng.Changes(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != 0 {
			t.Errorf("docker diff: %+v, want no changes", changes)
		}
	})
	t.Run("StopDrainsInFlightRequests", func(t *testing.T) {
		checkDrain(t, ctx, eng, id, base, c, env, db)
	})
	t.Run("RestartReadiness", func(t *testing.T) {
		start := time.Now()
		if err := eng.Start(ctx, id); err != nil {
			t.Fatal(err)
		}
		ready, err := waitReady(ctx, eng, id, base)
		if err != nil {
			t.Fatal(err)
		}
		m.add("docker start → /readyz 200, schema already current: %s (target < %s)", ready.Sub(start).Round(time.Millisecond), readyTarget)
		if err := eng.Stop(ctx, id, c.StopTimeoutOrDefault()); err != nil {
			t.Fatal(err)
		}
		info, err := eng.Container(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.ExitCode != 0 {
			t.Errorf("exit code after an idle stop = %d, want 0", info.State.ExitCode)
		}
	})
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func envOf(c *TaskContainer) []EnvEntry {
	var out []EnvEntry
	for _, e := range c.Environment {
		out = append(out, EnvEntry{Name: e.Name, Value: e.Value})
	}
	return out
}

// removeReplaced deletes the image a rebuilt tag no longer names, so
// repeated runs do not pile up dangling images.
func removeReplaced(ctx context.Context, eng *Engine, old *ImageInfo, tag string) {
	if old == nil {
		return
	}
	if cur, err := eng.Image(ctx, tag); err == nil && cur.ID != old.ID {
		// Still in use by another tag or container: then it stays.
		_ = eng.RemoveImage(ctx, old.ID)
	}
}

func printEnv(t *testing.T, env []EnvEntry) {
	var b strings.Builder
	b.WriteString("container environment (from the task definition; secrets as their test values, not shown):\n")
	for _, e := range env {
		v := e.Value
		if e.Secret {
			v = "(secret, " + fmt.Sprint(len(e.Value)) + " chars)"
		}
		fmt.Fprintf(&b, "  %-22s %-40s [%s]", e.Name, v, e.Source)
		if e.Why != "" {
			fmt.Fprintf(&b, "  REHEARSAL: %s", e.Why)
		}
		b.WriteString("\n")
	}
	t.Log(b.String())
}

func psql(t *testing.T, db, sql string) string {
	t.Helper()
	out, err := exec.Command("psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-Atc", sql).CombinedOutput()
	if err != nil {
		t.Fatalf("psql %q: %v\n%s", sql, err, out)
	}
	return strings.TrimSpace(string(out))
}

func startRelay(t *testing.T, host, target string) *Relay {
	t.Helper()
	conn, err := net.DialTimeout("tcp", target, 3*time.Second)
	if err != nil {
		t.Fatalf("the machine's service at %s: %v", target, err)
	}
	conn.Close()
	r, err := StartRelay(host, 0, target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// waitReady polls /readyz every 2 ms until it answers 200 and returns that
// moment; it fails when the container exits first.
func waitReady(ctx context.Context, eng *Engine, id, base string) (time.Time, error) {
	client := &http.Client{Timeout: 500 * time.Millisecond}
	deadline := time.Now().Add(3 * time.Minute)
	for i := 0; time.Now().Before(deadline); i++ {
		if resp, err := client.Get(base + "/readyz"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Now(), nil
			}
		}
		if i%100 == 99 {
			if info, err := eng.Container(ctx, id); err == nil && !info.State.Running {
				logs, _ := eng.Logs(ctx, id)
				return time.Time{}, fmt.Errorf("the container exited (code %d) before /readyz answered 200:\n%s", info.State.ExitCode, tail(logs, 40))
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Time{}, fmt.Errorf("/readyz did not answer 200 within 3 minutes")
}

func basicAuth(env []EnvEntry) string {
	user := Value(env, "BASIC_AUTH_USER")
	if user == "" {
		user = "books"
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+Value(env, "BASIC_AUTH_PASSWORD")))
}

// checkDrain stops the container with the task's stop timeout while
// requests are in flight across the moment its listener closes: opened
// (headers and half the body sent) just before the app's SHUTDOWN_GRACE
// ends, completed just after. Every one must be answered 201 and stored,
// /readyz must not answer 200 once SIGTERM is sent, and the container must
// exit 0 by itself before the timeout.
func checkDrain(t *testing.T, ctx context.Context, eng *Engine, id, base string, c *TaskContainer, env []EnvEntry, db string) {
	const inFlight = 4
	var grace time.Duration
	if v := Value(env, "SHUTDOWN_GRACE"); v != "" {
		var err error
		if grace, err = time.ParseDuration(v); err != nil {
			t.Fatalf("SHUTDOWN_GRACE=%q: %v", v, err)
		}
	}
	author := fmt.Sprintf("Drain %d", time.Now().UnixNano())
	addr := strings.TrimPrefix(base, "http://")
	type held struct {
		conn net.Conn
		rest string
	}
	open := func() []held {
		var reqs []held
		for i := 0; i < inFlight; i++ {
			conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			body := fmt.Sprintf(`{"title":"In flight %d","author":%q,"year":2001}`, i, author)
			head := fmt.Sprintf("POST /book HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
				addr, basicAuth(env), len(body))
			if _, err := io.WriteString(conn, head+body[:len(body)/2]); err != nil {
				t.Fatal(err)
			}
			reqs = append(reqs, held{conn, body[len(body)/2:]})
		}
		return reqs
	}
	timeout := c.StopTimeoutOrDefault()
	var reqs []held
	if grace <= time.Second {
		reqs = open()
		time.Sleep(500 * time.Millisecond) // docker-proxy forwards at once
	}
	stopped := make(chan error, 1)
	stopStart := time.Now()
	go func() { stopped <- eng.Stop(ctx, id, timeout) }()
	if grace > time.Second {
		time.Sleep(grace - time.Second)
		reqs = open()
	}
	time.Sleep(2 * time.Second)
	info, err := eng.Container(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !info.State.Running {
		t.Fatalf("the container exited %s after SIGTERM with %d requests in flight (exit code %d)", time.Since(stopStart).Round(time.Millisecond), inFlight, info.State.ExitCode)
	}
	// Draining: a load balancer's readiness probe must see it is going.
	if resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(base + "/readyz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("/readyz answered 200 %s after SIGTERM", time.Since(stopStart).Round(time.Millisecond))
		}
	}
	var wg sync.WaitGroup
	codes := make([]string, inFlight)
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := io.WriteString(r.conn, r.rest); err != nil {
				codes[i] = "write: " + err.Error()
				return
			}
			_ = r.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
			status, err := bufio.NewReader(r.conn).ReadString('\n')
			if err != nil {
				codes[i] = "read: " + err.Error()
				return
			}
			codes[i] = strings.TrimSpace(status)
		}()
	}
	wg.Wait()
	completed := 0
	for i, s := range codes {
		if strings.HasPrefix(s, "HTTP/1.1 201") {
			completed++
		} else {
			t.Errorf("in-flight request %d: %s, want HTTP/1.1 201", i, s)
		}
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	took := time.Since(stopStart)
	info, err = eng.Container(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	stored := psql(t, db, fmt.Sprintf("SELECT count(*) FROM books WHERE author = '%s'", author))
	t.Logf("docker stop -t %d (SHUTDOWN_GRACE %s): %d/%d in-flight requests answered 201, %s books stored, exit code %d after %s",
		int(timeout.Seconds()), grace, completed, inFlight, stored, info.State.ExitCode, took.Round(time.Millisecond))
	if stored != fmt.Sprint(inFlight) {
		t.Errorf("%s books stored by the in-flight requests, want %d", stored, inFlight)
	}
	if info.State.ExitCode != 0 || info.State.OOMKilled {
		t.Errorf("exit code %d (OOM killed %v), want 0: the stop was not graceful", info.State.ExitCode, info.State.OOMKilled)
	}
	if took >= timeout {
		t.Errorf("stop took %s, not under the task's stopTimeout %s: the engine had to SIGKILL", took, timeout)
	}
	logs, _ := eng.Logs(ctx, id)
	if !strings.Contains(logs, `"msg":"stopped"`) {
		t.Errorf("the app did not log its clean stop:\n%s", tail(logs, 10))
	}
}

// checkHealthCommand runs the task's health-check command inside the
// container (exec form, as the container's user) and proves the image has
// no shell to run anything else.
func checkHealthCommand(t *testing.T, ctx context.Context, eng *Engine, id string, c *TaskContainer) {
	hc := c.HealthCheck
	if hc == nil {
		t.Fatal("the task definition has no container health check")
	}
	if hc.Command[0] != "CMD" {
		t.Fatalf("healthCheck.command %q is %s: the image has no shell, so only the CMD (exec) form can run", hc.Command, hc.Command[0])
	}
	code, out, err := eng.Exec(ctx, id, hc.Command[1:])
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		t.Errorf("%q exited %d inside the container: %s", hc.Command[1:], code, out)
	}
	for _, sh := range []string{"/bin/sh", "/bin/bash", "/busybox/sh"} {
		code, _, err := eng.Exec(ctx, id, []string{sh, "-c", "true"})
		if err == nil && code == 0 {
			t.Errorf("%s runs inside the image: it should have no shell", sh)
		}
	}
}

// checkDockerHealth waits for the engine's own run of the health check
// (interval from the task definition) to mark the container healthy.
func checkDockerHealth(t *testing.T, ctx context.Context, eng *Engine, id string, c *TaskContainer) {
	wait := time.Duration(c.HealthCheck.Interval+c.HealthCheck.Timeout)*time.Second + 15*time.Second
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		info, err := eng.Container(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if h := info.State.Health; h != nil && h.Status == "healthy" {
			last := h.Log[len(h.Log)-1]
			t.Logf("engine health check: %s (last run exit %d)", h.Status, last.ExitCode)
			return
		} else if h != nil && h.Status == "unhealthy" {
			t.Fatalf("engine health check: unhealthy: %+v", h.Log)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("the engine's health check did not report healthy within %s", wait)
}

// checkProcess reads the container's main process from the host's /proc:
// its user and group, and that it holds no capability.
func checkProcess(t *testing.T, ctx context.Context, eng *Engine, id string, c *TaskContainer) {
	info, err := eng.Container(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if info.HostConfig.Privileged {
		t.Error("the container runs privileged")
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", info.State.Pid))
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	t.Logf("pid %d: Uid %s, Gid %s, CapEff %s, CapBnd %s", info.State.Pid, fields["Uid"], fields["Gid"], fields["CapEff"], fields["CapBnd"])
	uid, gid, _ := strings.Cut(c.User, ":")
	if gid == "" {
		gid = uid
	}
	if want := strings.Repeat(uid+" ", 3) + uid; fields["Uid"] != want {
		t.Errorf("Uid %q, want %q (task user %s)", fields["Uid"], want, c.User)
	}
	if want := strings.Repeat(gid+" ", 3) + gid; fields["Gid"] != want {
		t.Errorf("Gid %q, want %q (task user %s)", fields["Gid"], want, c.User)
	}
	if fmt.Sprint(NonrootUID) != uid {
		t.Errorf("the task's user is %s, not distroless nonroot %d", c.User, NonrootUID)
	}
	dropsAll := c.LinuxParameters != nil && c.LinuxParameters.Capabilities != nil && contains(c.LinuxParameters.Capabilities.Drop, "ALL")
	for _, k := range []string{"CapEff", "CapPrm"} {
		if fields[k] != "0000000000000000" {
			t.Errorf("%s = %s, want no capabilities for a non-root process", k, fields[k])
		}
	}
	if dropsAll && fields["CapBnd"] != "0000000000000000" {
		t.Errorf("CapBnd = %s although the task drops ALL", fields["CapBnd"])
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// checkImages checks the built images: size, configuration, the
// architecture of the binary, and that nothing but data files and /books
// are in them.
func checkImages(t *testing.T, ctx context.Context, eng *Engine, images map[string]string, native string, c *TaskContainer, m *measurements) {
	for platform, ref := range images {
		img, err := eng.Image(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		m.add("image %s %s: %.1f MB (%d bytes; target ≤ %d MB)", ref, platform, float64(img.Size)/1e6, img.Size, imageSizeTarget/1_000_000)
		if img.Size > imageSizeTarget {
			t.Errorf("%s is %d bytes, over the %d-byte target", ref, img.Size, imageSizeTarget)
		}
		if got := img.Os + "/" + img.Architecture; got != platform {
			t.Errorf("%s is %s, want %s", ref, got, platform)
		}
		if img.Config.User != c.User {
			t.Errorf("%s runs as %q, the task definition as %q", ref, img.Config.User, c.User)
		}
		if len(img.Config.Entrypoint) != 1 || img.Config.Entrypoint[0] != "/books" {
			t.Errorf("%s entrypoint %q", ref, img.Config.Entrypoint)
		}
		id, err := eng.CreateContainer(ctx, "", map[string]any{"Image": ref})
		if err != nil {
			t.Fatal(err)
		}
		arch, err := BinaryArch(ctx, eng, id, "/books")
		if err != nil {
			t.Error(err)
		} else if want := strings.TrimPrefix(platform, "linux/"); arch != want {
			t.Errorf("%s: /books is a %s executable, want %s", ref, arch, want)
		}
		for _, p := range []string{"/bin/sh", "/bin", "/usr/bin", "/sbin"} {
			if rc, err := eng.Archive(ctx, id, p); err == nil {
				rc.Close()
				t.Errorf("%s has %s: distroless static has no shell or binaries", ref, p)
			} else if !IsNotFound(err) {
				t.Error(err)
			}
		}
		for _, p := range []string{"/etc/ssl/certs/ca-certificates.crt", "/usr/share/zoneinfo/UTC", "/etc/passwd", "/home/nonroot", "/tmp"} {
			if rc, err := eng.Archive(ctx, id, p); err != nil {
				t.Errorf("%s lacks %s: %v", ref, p, err)
			} else {
				rc.Close()
			}
		}
		if err := eng.RemoveContainer(ctx, id); err != nil {
			t.Error(err)
		}
	}
}

// startupLog lists the app's JSON log lines up to "listening" with their
// offset from the first one, to show where start-up time goes.
func startupLog(logs string) string {
	var b strings.Builder
	var first time.Time
	for _, line := range strings.Split(logs, "\n") {
		var l struct {
			Time time.Time `json:"time"`
			Msg  string    `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Time.IsZero() {
			continue
		}
		if first.IsZero() {
			first = l.Time
		}
		fmt.Fprintf(&b, "  %6d  %s\n", l.Time.Sub(first).Milliseconds(), l.Msg)
		if l.Msg == "listening" {
			break
		}
	}
	return b.String()
}
