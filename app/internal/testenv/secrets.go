package testenv

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// SecretsManager is a stand-in for the AWS Secrets Manager API that answers
// GetSecretValue with a value the test can change. Point the AWS SDK at it
// with AWS_ENDPOINT_URL (or the config's BaseEndpoint).
type SecretsManager struct {
	URL   string
	mu    sync.Mutex
	value string
	reads int
}

// StartSecretsManager serves on 127.0.0.1 until the test ends.
func StartSecretsManager(t testing.TB, value string) *SecretsManager {
	t.Helper()
	sm := &SecretsManager{value: value}
	srv := httptest.NewServer(http.HandlerFunc(sm.serve))
	t.Cleanup(srv.Close)
	sm.URL = srv.URL
	return sm
}

func (sm *SecretsManager) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
		http.Error(w, `{"__type":"InvalidRequestException","message":"unsupported"}`, http.StatusBadRequest)
		return
	}
	var in struct{ SecretId string }
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, `{"__type":"InvalidRequestException","message":"request is not JSON"}`, http.StatusBadRequest)
		return
	}
	sm.mu.Lock()
	value := sm.value
	sm.reads++
	sm.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	// An encoding error here can only be a failed write to a client that
	// went away; the stand-in has no one to report it to.
	_ = json.NewEncoder(w).Encode(map[string]any{
		"ARN": in.SecretId, "Name": "books-db", "SecretString": value, "VersionId": "v1", "VersionStages": []string{"AWSCURRENT"},
	})
}

// Set changes the secret value (a rotation).
func (sm *SecretsManager) Set(value string) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	sm.value = value
}

// Reads counts GetSecretValue calls.
func (sm *SecretsManager) Reads() int {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	return sm.reads
}
