package harness

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchClient keeps enough idle connections for the heaviest parallelism.
var BenchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

// Post sends one JSON request and fails unless it gets want.
func Post(url, token string, body []byte, want int) error {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := BenchClient.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("%s answered %d, want %d", url, resp.StatusCode, want)
	}
	return nil
}

// Measure runs call b.N times from `parallelism` × GOMAXPROCS concurrent
// clients and reports throughput and latency percentiles next to Go's ns/op.
func Measure(b *testing.B, parallelism int, call func(i int) error) {
	b.Helper()
	b.SetParallelism(parallelism)
	var (
		mu   sync.Mutex
		lats []time.Duration
		seq  int
	)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			mu.Lock()
			seq++
			i := seq
			mu.Unlock()
			t0 := time.Now()
			if err := call(i); err != nil {
				b.Error(err)
				return
			}
			local = append(local, time.Since(t0))
		}
		mu.Lock()
		lats = append(lats, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lats) == 0 {
		return
	}
	slices.Sort(lats)
	pct := func(p float64) float64 { return float64(lats[int(p*float64(len(lats)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(lats))/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
