package clientmetadata_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/clientmetadata"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/netaddr"
)

// server answers with h on IPv4 loopback and counts the connections made to
// it, so that a test can tell nothing reached it, not even a TLS handshake.
func server(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// serve answers 200 with body as application/json and the given headers.
func serve(body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		_, _ = w.Write([]byte(body))
	}
}

func local() *clientmetadata.Fetcher {
	return clientmetadata.New(clientmetadata.Config{AllowPrivate: true})
}

// failed checks that err is an *Error of kind, whose message (the one the end
// user reads) has every word of says.
func failed(t *testing.T, what string, err error, kind error, says ...string) {
	t.Helper()
	var e *clientmetadata.Error
	if !errors.Is(err, kind) || !errors.As(err, &e) {
		t.Errorf("%s: %v, want %v", what, err, kind)
		return
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%s: %q, want it to say %q", what, err, s)
		}
	}
}

func TestFetchReturnsTheDocument(t *testing.T) {
	t.Parallel()
	const doc = `{"client_id":"x","client_name":"Example","redirect_uris":["https://example.com/cb"]}`
	var got *http.Request
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		serve(doc, "Content-Type", "application/json; charset=utf-8", "Cache-Control", "max-age=300")(w, r)
	})
	body, maxAge, err := local().Fetch(context.Background(), srv.URL+"/client.json?v=1") // a query is allowed
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != doc || maxAge != 5*time.Minute {
		t.Errorf("got %q for %v", body, maxAge)
	}
	if got.Method != http.MethodGet || got.URL.RequestURI() != "/client.json?v=1" {
		t.Errorf("%s %s", got.Method, got.URL.RequestURI())
	}
	if got.Header.Get("Accept") != "application/json" || !strings.HasPrefix(got.UserAgent(), "custom-gpt-adapter") {
		t.Errorf("Accept %q, User-Agent %q", got.Header.Get("Accept"), got.UserAgent())
	}
}

// The draft recommends reading at most 5 KB (section 8.7), the default limit;
// a longer document is refused whether or not it declares its length.
func TestFetchRefusesDocumentsOverTheLimit(t *testing.T) {
	t.Parallel()
	sized := func(n int) string { return `{"p":"` + strings.Repeat("a", n-8) + `"}` }
	for _, tt := range []struct {
		name     string
		size     int
		declared bool
		refused  bool
	}{
		{"at the limit", 5120, true, false},
		{"at the limit, undeclared", 5120, false, false},
		{"one byte over", 5121, true, true},
		{"one byte over, undeclared", 5121, false, true},
		{"far over, undeclared", 1 << 20, false, true},
	} {
		srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if tt.declared {
				w.Header().Set("Content-Length", strconv.Itoa(tt.size))
			}
			body := sized(tt.size)
			_, _ = w.Write([]byte(body[:10]))
			w.(http.Flusher).Flush() // chunked, when the length is not set
			_, _ = w.Write([]byte(body[10:]))
		})
		doc, _, err := local().Fetch(context.Background(), srv.URL+"/client")
		switch {
		case tt.refused:
			failed(t, tt.name, err, clientmetadata.ErrTooLarge, "the client's metadata document is larger than 5120 bytes")
		case err != nil || len(doc) != tt.size:
			t.Errorf("%s: %d bytes, %v", tt.name, len(doc), err)
		}
	}
}

func TestFetchRefusesAnyStatusBut200AndFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	target, targetConns := server(t, serve(`{}`))
	for _, status := range []int{
		http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect,
		http.StatusPermanentRedirect, http.StatusNoContent, http.StatusNotFound, http.StatusInternalServerError,
	} {
		srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", target.URL+"/client")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{}`))
		})
		_, _, err := local().Fetch(context.Background(), srv.URL+"/client")
		want := []string{"fetching the client's metadata document answered " + strconv.Itoa(status)}
		if status/100 == 3 {
			want = append(want, "redirect, which is not followed")
		}
		failed(t, strconv.Itoa(status), err, clientmetadata.ErrStatus, want...)
	}
	if n := targetConns.Load(); n != 0 {
		t.Errorf("a redirect was followed: the target got %d connections", n)
	}
}

func TestFetchAcceptsOnlyJSON(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		contentType string // "-": none at all
		accepted    bool
	}{
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"Application/JSON", true},
		{"application/client-metadata+json", true}, // a more specific JSON type (draft section 4)
		{"text/html; charset=utf-8", false},
		{"text/plain", false},
		{"application/jsonp", false},
		{"application/+json", false},
		{"text/json+html", false},
		{"-", false},
	} {
		srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil // no sniffing by the server
			if tt.contentType != "-" {
				w.Header().Set("Content-Type", tt.contentType)
			}
			_, _ = w.Write([]byte(`{"client_id":"x"}`))
		})
		_, _, err := local().Fetch(context.Background(), srv.URL+"/client")
		switch {
		case tt.accepted && err != nil:
			t.Errorf("%s refused: %v", tt.contentType, err)
		case !tt.accepted:
			failed(t, tt.contentType, err, clientmetadata.ErrContentType, "not as application/json")
		}
	}
}

// Without AllowPrivate, a loopback address is refused, whether written in
// the URL or resolved from a name: the server sees no connection at all.
func TestFetchRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	srv, conns := server(t, serve(`{}`))
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	f := clientmetadata.New(clientmetadata.Config{})
	for _, host := range []string{"127.0.0.1", "localhost", "[::ffff:127.0.0.1]"} {
		_, _, err := f.Fetch(context.Background(), "https://"+host+":"+port+"/client")
		failed(t, host, err, clientmetadata.ErrForbiddenAddress, "the client's metadata document is on a private address (", "loopback)")
		var fe *netaddr.ForbiddenAddressError
		if !errors.As(err, &fe) {
			t.Errorf("%s: %v carries no ForbiddenAddressError", host, err)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("the server got %d connections", n)
	}
}

// Each rule of the draft's section 3 is checked before any network use: the
// server, which every URL here points at, sees no connection.
func TestFetchRefusesInvalidURLs(t *testing.T) {
	t.Parallel()
	srv, conns := server(t, serve(`{}`))
	base, host := srv.URL, srv.Listener.Addr().String()
	for _, tt := range []struct {
		url          string
		allowPrivate bool
		says         string
	}{
		{"", true, "empty"},
		{"http://" + host + "/client", false, "must use https"},
		{"ftp://" + host + "/client", true, "must use https"},
		{"//" + host + "/client", true, "must use https"},
		{"/client", true, "must use https"},
		{"client", true, "must use https"},
		{"http:///client", true, "must have a host"},
		{"http:" + host + "/client", true, "must have a host"},
		{base, true, `path other than "/"`},
		{base + "/", true, `path other than "/"`},
		{base + "?client", true, `path other than "/"`},
		{"http://user@" + host + "/client", true, "user name or password"},
		{"http://user:secret@" + host + "/client", true, "user name or password"},
		{"http://@" + host + "/client", true, "user name or password"},
		{base + "/client#top", true, "fragment"},
		{base + "/client#", true, "fragment"},
		{base + "/./client", true, `"." or ".."`},
		{base + "/a/../client", true, `"." or ".."`},
		{base + "/client/..", true, `"." or ".."`},
		{base + "/client/.", true, `"." or ".."`},
		{base + "/%2e%2e/client", true, `"." or ".."`},
		{base + "/a/%2E/client", true, `"." or ".."`},
		{base + "/my client", true, "spaces or control characters"},
		{base + "/client\n", true, "spaces or control characters"},
		{base + "/%zz", true, "cannot be parsed"},
	} {
		f := clientmetadata.New(clientmetadata.Config{AllowPrivate: tt.allowPrivate})
		_, _, err := f.Fetch(context.Background(), tt.url)
		failed(t, strconv.Quote(tt.url), err, clientmetadata.ErrInvalidURL, "the client_id is not a valid metadata document URL: ", tt.says)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("the server got %d connections", n)
	}
}

func TestFetchReadsCacheControl(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		header []string
		want   time.Duration
	}{
		{nil, time.Hour},
		{[]string{"Cache-Control", "public"}, time.Hour},
		{[]string{"Cache-Control", "s-maxage=60"}, time.Hour}, // for shared caches only
		{[]string{"Cache-Control", "max-age=600"}, 10 * time.Minute},
		{[]string{"Cache-Control", "public, max-age=600, must-revalidate"}, 10 * time.Minute},
		{[]string{"Cache-Control", "MAX-AGE=600"}, 10 * time.Minute},
		{[]string{"Cache-Control", `max-age="600"`}, 10 * time.Minute},
		{[]string{"Cache-Control", "max-age=600, max-age=60"}, 10 * time.Minute}, // the first counts
		{[]string{"Cache-Control", "max-age=600", "Age", "100"}, 500 * time.Second},
		{[]string{"Cache-Control", "max-age=600", "Age", "900"}, 0},
		{[]string{"Cache-Control", "max-age=600", "Age", "soon"}, 10 * time.Minute},
		{[]string{"Cache-Control", "max-age=0"}, 0},
		{[]string{"Cache-Control", "no-store"}, 0},
		{[]string{"Cache-Control", "no-cache"}, 0},
		{[]string{"Cache-Control", "max-age=600, no-cache"}, 0},
		{[]string{"Cache-Control", `private, no-cache="Set-Cookie", max-age=600`}, 0},
		{[]string{"Cache-Control", "max-age=172800"}, 24 * time.Hour},
		{[]string{"Cache-Control", "max-age=99999999999999999999999"}, 24 * time.Hour},
		{[]string{"Cache-Control", "max-age=99999999999999999999999", "Age", "60"}, 24 * time.Hour},
		{[]string{"Cache-Control", "max-age=-5"}, 0},
		{[]string{"Cache-Control", "max-age=soon"}, 0},
		{[]string{"Cache-Control", "max-age="}, 0},
	} {
		name := strings.Join(tt.header, ": ")
		srv, _ := server(t, serve(`{}`, tt.header...))
		_, got, err := local().Fetch(context.Background(), srv.URL+"/client")
		if err != nil || got != tt.want {
			t.Errorf("%s: %v (%v), want %v", name, got, err, tt.want)
		}
	}
}

func TestFetchTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release) // before the server's Close, which waits for handlers
	f := clientmetadata.New(clientmetadata.Config{AllowPrivate: true, Timeout: 100 * time.Millisecond})
	_, _, err := f.Fetch(context.Background(), srv.URL+"/client")
	failed(t, "a server that does not answer", err, clientmetadata.ErrUnreachable, "fetching the client's metadata document timed out")
}
