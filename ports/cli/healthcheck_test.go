package cli

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// healthz is a loopback server answering /healthz with status.
func healthz(t *testing.T, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// setupAt is a wiring whose API and worker listen at the given addresses.
func setupAt(api, worker string) Wiring {
	return func(func(string) string) (Setup, error) { return Setup{HTTPAddr: api, WorkerAddr: worker}, nil }
}

// healthcheck asks the loopback at the configured port, the API's or with
// --worker the worker's, and succeeds only on a 200.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	up, down := healthz(t, http.StatusOK), healthz(t, http.StatusServiceUnavailable)
	// A port held by this test that hangs up on every connection: unlike a
	// closed port, no parallel test can take it meanwhile.
	hangUp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hangUp.Close() })
	go func() {
		for {
			c, err := hangUp.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	// The host is ignored: a container checks itself on the loopback.
	_, upPort, _ := net.SplitHostPort(up)
	cases := []struct {
		name        string
		api, worker string
		args        []string
		fails       string // "" for success
	}{
		{"api up", up, "", nil, ""},
		{"api on all interfaces", ":" + upPort, "", nil, ""},
		{"api unhealthy", down, "", nil, "503"},
		// Go's client says "EOF" or "server closed idle connection", by timing.
		{"api hangs up", hangUp.Addr().String(), "", nil, "/healthz"},
		{"worker up", down, up, []string{"--worker"}, ""},
		{"worker unhealthy", up, down, []string{"--worker"}, "503"},
		{"worker without an address", up, "", []string{"--worker"}, "CUSTOM_GPT_WORKER_ADDR is not set"},
	}
	for _, tc := range cases {
		env := Env{Getenv: noEnv, Stdout: io.Discard, Stderr: io.Discard}
		err := Run(context.Background(), append([]string{"healthcheck"}, tc.args...), env, setupAt(tc.api, tc.worker))
		switch {
		case tc.fails == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.fails != "" && (err == nil || !strings.Contains(err.Error(), tc.fails)):
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.fails)
		}
	}
}
