package container

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// Relay accepts TCP connections on the bridge gateway and forwards them to
// a service on 127.0.0.1, so the container reaches the machine's
// PostgreSQL and Redis (which listen on loopback only) and PostgreSQL sees
// a 127.0.0.1 client (its pg_hba trusts 127.0.0.1/32, as .ci/run sets up).
type Relay struct {
	Addr   string // where the container connects (gateway:port)
	ln     net.Listener
	target string
	conns  atomic.Int64
	wg     sync.WaitGroup
}

// StartRelay listens on host:port (port 0 picks one) and forwards to target.
func StartRelay(host string, port int, target string) (*Relay, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	r := &Relay{Addr: ln.Addr().String(), ln: ln, target: target}
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

func (r *Relay) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.conns.Add(1)
		go r.pipe(c)
	}
}

func (r *Relay) pipe(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", r.target)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		// The copy ends when either side closes; its error says nothing
		// the two peers have not seen themselves.
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(up, c)
	go cp(c, up)
	<-done
	<-done
}

// Port is the relay's listening port.
func (r *Relay) Port() int { return r.ln.Addr().(*net.TCPAddr).Port }

// Conns counts the connections relayed so far.
func (r *Relay) Conns() int64 { return r.conns.Load() }

// Close stops accepting (open connections end with their peers).
func (r *Relay) Close() error {
	err := r.ln.Close()
	r.wg.Wait()
	return err
}

// SecretsManager answers GetSecretValue for one secret ARN with a fixed
// value, standing in for AWS Secrets Manager (the app reaches it through
// AWS_ENDPOINT_URL). A request for any other secret is refused the way AWS
// refuses it, so a wrong DB_SECRET_ARN fails the run.
type SecretsManager struct {
	URL         string
	arn, value  string
	srv         *http.Server
	reads, bads atomic.Int64
}

// StartSecretsManager serves on host (port chosen by the system).
func StartSecretsManager(host, arn, value string) (*SecretsManager, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, err
	}
	sm := &SecretsManager{arn: arn, value: value}
	sm.srv = &http.Server{Handler: http.HandlerFunc(sm.serve)}
	sm.URL = "http://" + ln.Addr().String()
	go func() {
		if err := sm.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	return sm, nil
}

func (sm *SecretsManager) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	var in struct{ SecretId string }
	if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || json.NewDecoder(r.Body).Decode(&in) != nil {
		sm.bads.Add(1)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"InvalidRequestException","message":"only GetSecretValue"}`)
		return
	}
	if in.SecretId != sm.arn {
		sm.bads.Add(1)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
		return
	}
	sm.reads.Add(1)
	// A failed write means the client went away; it retries or fails itself.
	_ = json.NewEncoder(w).Encode(map[string]any{
		"ARN": sm.arn, "Name": "rehearsal-db", "SecretString": sm.value,
		"VersionId": "v1", "VersionStages": []string{"AWSCURRENT"},
	})
}

// Reads counts GetSecretValue calls for the secret; Refused those for
// anything else.
func (sm *SecretsManager) Reads() int64   { return sm.reads.Load() }
func (sm *SecretsManager) Refused() int64 { return sm.bads.Load() }

// Close stops the server.
func (sm *SecretsManager) Close() error { return sm.srv.Close() }
