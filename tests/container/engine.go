package container

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Engine talks to a Docker engine through its HTTP API on the unix socket
// (what the ECS agent does on an EC2 host), pinned to API 1.41 (Docker
// 20.10, Debian 12's docker.io) so newer engines answer the same way.
type Engine struct {
	Socket string
	http   *http.Client
}

// DefaultSocket is dockerd's default API socket.
const DefaultSocket = "/var/run/docker.sock"

const apiVersion = "v1.41"

// NewEngine returns a client for the engine at socket (DefaultSocket when "").
func NewEngine(socket string) *Engine {
	if socket == "" {
		socket = DefaultSocket
	}
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}
	return &Engine{Socket: socket, http: &http.Client{Transport: &http.Transport{DialContext: dial}}}
}

// APIError is a non-2xx answer of the engine.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("docker engine: %d %s", e.Status, e.Message) }

// IsNotFound is true for an engine 404 (no such image/container/path).
func IsNotFound(err error) bool {
	var a *APIError
	return errors.As(err, &a) && a.Status == http.StatusNotFound
}

// do sends one request; body may be nil, an io.Reader (sent as is) or a
// value marshalled to JSON. out, when not nil, receives the JSON answer.
func (e *Engine) do(ctx context.Context, method, path string, query url.Values, body any, out any) error {
	resp, err := e.raw(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// raw sends one request and returns the 2xx response with its body open.
func (e *Engine) raw(ctx context.Context, method, path string, query url.Values, body any) (*http.Response, error) {
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd, contentType = b, "application/x-tar"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd, contentType = bytes.NewReader(data), "application/json"
	}
	u := "http://docker/" + apiVersion + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("docker engine at %s: %w", e.Socket, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		var m struct{ Message string }
		if json.Unmarshal(data, &m) != nil || m.Message == "" {
			m.Message = strings.TrimSpace(string(data))
		}
		return nil, &APIError{Status: resp.StatusCode, Message: m.Message}
	}
	return resp, nil
}

// Version is the engine's /version answer (the fields used here).
type Version struct {
	Version, APIVersion, Os, Arch string
}

// Ping checks that the engine answers and returns its version.
func (e *Engine) Ping(ctx context.Context) (Version, error) {
	var v Version
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := e.do(ctx, http.MethodGet, "/version", nil, nil, &v)
	return v, err
}

// ImageInfo is what the tests read of an image.
type ImageInfo struct {
	ID           string `json:"Id"`
	Size         int64
	Architecture string
	Os           string
	Created      string
	Config       struct {
		User        string
		Env         []string
		Entrypoint  []string
		Cmd         []string
		WorkingDir  string
		Labels      map[string]string
		Healthcheck *struct {
			Test []string
		}
	}
}

// Image inspects an image by name or id.
func (e *Engine) Image(ctx context.Context, ref string) (*ImageInfo, error) {
	var img ImageInfo
	if err := e.do(ctx, http.MethodGet, "/images/"+ref+"/json", nil, nil, &img); err != nil {
		return nil, err
	}
	return &img, nil
}

// Tag gives image src the reference repo:tag (replacing its previous owner).
func (e *Engine) Tag(ctx context.Context, src, ref string) error {
	repo, tag := splitRef(ref)
	return e.do(ctx, http.MethodPost, "/images/"+src+"/tag", url.Values{"repo": {repo}, "tag": {tag}}, nil, nil)
}

// RemoveImage deletes an image (an id untags nothing else; errors such as
// "in use" are returned).
func (e *Engine) RemoveImage(ctx context.Context, ref string) error {
	return e.do(ctx, http.MethodDelete, "/images/"+ref, nil, nil, nil)
}

// Import creates image ref from a root filesystem tar stream, applying
// Dockerfile instructions (ENV, LABEL, …) in changes.
func (e *Engine) Import(ctx context.Context, ref string, rootfs io.Reader, changes []string) error {
	repo, tag := splitRef(ref)
	q := url.Values{"fromSrc": {"-"}, "repo": {repo}, "tag": {tag}}
	for _, c := range changes {
		q.Add("changes", c)
	}
	resp, err := e.raw(ctx, http.MethodPost, "/images/create", q, rootfs)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return jsonStreamError(resp.Body)
}

// jsonStreamError reads a progress stream and returns its first error.
func jsonStreamError(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
	}
}

func splitRef(ref string) (repo, tag string) {
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i], ref[i+1:]
	}
	return ref, "latest"
}

// CreateContainer creates a container from the Engine API's create body
// (ContainerConfig) and returns its id.
func (e *Engine) CreateContainer(ctx context.Context, name string, cfg any) (string, error) {
	var out struct {
		ID string `json:"Id"`
	}
	q := url.Values{}
	if name != "" {
		q.Set("name", name)
	}
	err := e.do(ctx, http.MethodPost, "/containers/create", q, cfg, &out)
	return out.ID, err
}

// Start starts a created (or stopped) container.
func (e *Engine) Start(ctx context.Context, id string) error {
	return e.do(ctx, http.MethodPost, "/containers/"+id+"/start", nil, nil, nil)
}

// Stop is `docker stop -t timeout`: SIGTERM (the image's stop signal), then
// SIGKILL after timeout. It returns when the container has stopped.
func (e *Engine) Stop(ctx context.Context, id string, timeout time.Duration) error {
	return e.do(ctx, http.MethodPost, "/containers/"+id+"/stop", url.Values{"t": {fmt.Sprint(int(timeout.Seconds()))}}, nil, nil)
}

// RemoveContainer force-removes a container and its anonymous volumes.
func (e *Engine) RemoveContainer(ctx context.Context, id string) error {
	err := e.do(ctx, http.MethodDelete, "/containers/"+id, url.Values{"force": {"1"}, "v": {"1"}}, nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// ContainerInfo is what the tests read of a container.
type ContainerInfo struct {
	ID    string `json:"Id"`
	State struct {
		Status     string
		Running    bool
		Pid        int
		ExitCode   int
		OOMKilled  bool
		StartedAt  string
		FinishedAt string
		Health     *struct {
			Status string
			Log    []struct {
				ExitCode int
				Output   string
			}
		}
	}
	Config struct {
		User string
		Env  []string
	}
	HostConfig struct {
		Privileged     bool
		ReadonlyRootfs bool
		CapDrop        []string
		CapAdd         []string
	}
}

// Container inspects a container.
func (e *Engine) Container(ctx context.Context, id string) (*ContainerInfo, error) {
	var c ContainerInfo
	if err := e.do(ctx, http.MethodGet, "/containers/"+id+"/json", nil, nil, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Change is one `docker diff` entry: Kind 0 modified, 1 added, 2 deleted.
type Change struct {
	Path string
	Kind int
}

// Changes is `docker diff`: what the container changed in its root
// filesystem.
func (e *Engine) Changes(ctx context.Context, id string) ([]Change, error) {
	var out []Change
	err := e.do(ctx, http.MethodGet, "/containers/"+id+"/changes", nil, nil, &out)
	return out, err
}

// Exec runs cmd inside a running container (exec form, no shell) as the
// container's user and returns its exit code and output.
func (e *Engine) Exec(ctx context.Context, id string, cmd []string) (int, string, error) {
	var created struct {
		ID string `json:"Id"`
	}
	if err := e.do(ctx, http.MethodPost, "/containers/"+id+"/exec", nil, map[string]any{
		"Cmd": cmd, "AttachStdout": true, "AttachStderr": true,
	}, &created); err != nil {
		return 0, "", err
	}
	resp, err := e.raw(ctx, http.MethodPost, "/exec/"+created.ID+"/start", nil, map[string]any{"Detach": false, "Tty": false})
	if err != nil {
		return 0, "", err
	}
	out, err := demux(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, out, err
	}
	for {
		var st struct {
			Running  bool
			ExitCode int
		}
		if err := e.do(ctx, http.MethodGet, "/exec/"+created.ID+"/json", nil, nil, &st); err != nil {
			return 0, out, err
		}
		if !st.Running {
			return st.ExitCode, out, nil
		}
		select {
		case <-ctx.Done():
			return 0, out, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Logs returns a container's stdout and stderr so far.
func (e *Engine) Logs(ctx context.Context, id string) (string, error) {
	resp, err := e.raw(ctx, http.MethodGet, "/containers/"+id+"/logs", url.Values{"stdout": {"1"}, "stderr": {"1"}}, nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	return demux(resp.Body)
}

// demux reads Docker's multiplexed stdout/stderr stream (8-byte frame
// headers) into one string.
func demux(r io.Reader) (string, error) {
	var b strings.Builder
	br := bufio.NewReader(r)
	hdr := make([]byte, 8)
	for {
		if _, err := io.ReadFull(br, hdr); err == io.EOF {
			return b.String(), nil
		} else if err != nil {
			return b.String(), err
		}
		n := binary.BigEndian.Uint32(hdr[4:])
		if _, err := io.CopyN(&b, br, int64(n)); err != nil {
			return b.String(), err
		}
	}
}

// Export streams a container's root filesystem as a tar archive.
func (e *Engine) Export(ctx context.Context, id string) (io.ReadCloser, error) {
	resp, err := e.raw(ctx, http.MethodGet, "/containers/"+id+"/export", nil, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Archive streams a path of a container's filesystem as a tar archive (404
// when the path does not exist).
func (e *Engine) Archive(ctx context.Context, id, path string) (io.ReadCloser, error) {
	resp, err := e.raw(ctx, http.MethodGet, "/containers/"+id+"/archive", url.Values{"path": {path}}, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// BridgeGateway is the default bridge network's gateway address: the host
// as containers on that network see it (what host-gateway resolves to).
// The engine leaves IPAM's gateway empty when it chose the address itself;
// then it is the bridge interface's IPv4 address.
func (e *Engine) BridgeGateway(ctx context.Context) (string, error) {
	var n struct {
		Options map[string]string
		IPAM    struct {
			Config []struct{ Gateway string }
		}
	}
	if err := e.do(ctx, http.MethodGet, "/networks/bridge", nil, nil, &n); err != nil {
		return "", err
	}
	for _, c := range n.IPAM.Config {
		if ip := net.ParseIP(c.Gateway); ip != nil && ip.To4() != nil {
			return c.Gateway, nil
		}
	}
	name := n.Options["com.docker.network.bridge.name"]
	if name == "" {
		name = "docker0"
	}
	iface, err := net.InterfaceByName(name)
	if err != nil {
		return "", fmt.Errorf("the bridge network's interface %s: %w", name, err)
	}
	addrs, err := iface.Addrs()
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
			return ipn.IP.String(), nil
		}
	}
	return "", fmt.Errorf("docker engine: the bridge network (%s) has no IPv4 gateway", name)
}
