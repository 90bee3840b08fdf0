package service

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
)

// With tracing on, spans go to the OTLP/HTTP endpoint of the standard
// variables, under the service's name unless OTEL_SERVICE_NAME gives another,
// and the flush at the stop sends what is still buffered. Not parallel: the
// SDK reads the process's environment.
func TestTracesGoToTheOTLPEndpointAndAreFlushedAtTheStop(t *testing.T) {
	for _, c := range []struct{ envName, want string }{{"", serviceName}, {"memory-eu", "memory-eu"}} {
		var (
			mu    sync.Mutex
			names []string
			paths []string
		)
		collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			var req collectortrace.ExportTraceServiceRequest
			if err := proto.Unmarshal(body, &req); err != nil {
				t.Errorf("collector got %d bytes it cannot read: %v", len(body), err)
			}
			mu.Lock()
			defer mu.Unlock()
			paths = append(paths, r.URL.Path)
			for _, rs := range req.ResourceSpans {
				for _, a := range rs.Resource.Attributes {
					if a.Key == "service.name" {
						names = append(names, a.Value.GetStringValue())
					}
				}
			}
		}))
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
		t.Setenv("OTEL_SERVICE_NAME", c.envName)
		tp, stop, err := openTracing(context.Background(), Config{Tracing: true}, nil)
		if err != nil || stop == nil || !tracing.On(tp) {
			t.Fatalf("open: %v (stop %v)", err, stop != nil)
		}
		_, span := tracing.Tracer(tp).Start(context.Background(), "request")
		span.End()
		if err := stop(context.Background()); err != nil {
			t.Fatalf("flush: %v", err)
		}
		collector.Close()
		mu.Lock()
		if len(paths) != 1 || paths[0] != "/v1/traces" || len(names) != 1 || names[0] != c.want {
			t.Errorf("OTEL_SERVICE_NAME=%q: the collector got %v with service names %v, want one export as %q", c.envName, paths, names, c.want)
		}
		mu.Unlock()
	}
}

// Off, the provider is the no-op one, and there is nothing to flush.
func TestTracesOffMakeNoSpans(t *testing.T) {
	tp, stop, err := openTracing(context.Background(), Config{}, nil)
	if err != nil || stop != nil || tracing.On(tp) {
		t.Fatalf("tracing off gave %T (stop %v, %v)", tp, stop != nil, err)
	}
}
