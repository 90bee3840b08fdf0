package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// target is what one cell sends: request i, built fresh, and the check of
// its answer, which returns the operation id of a create.
type target struct {
	client  *http.Client
	request func(i int) *http.Request
	check   func(status int, body []byte) (opID string, err error)
}

// newClient keeps a connection per concurrent request alive, with nothing
// between the generator and the target (no proxy from the environment, no
// compression).
func newClient(conns int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: 5 * time.Minute,
		DisableCompression: true,
	}}
}

// sample is one request that passed its check.
type sample struct {
	latency time.Duration
	due     time.Time // when it was meant to be sent
	opID    string
}

// outcome is what a cell's load got back.
type outcome struct {
	ok       []sample
	failures map[string]int    // reason → count
	examples map[string]string // reason → one answer that had it
	unsent   atomic.Int64      // open loop: due, but not sent before the generator gave up
	elapsed  time.Duration
	mu       sync.Mutex
}

func newOutcome() *outcome {
	return &outcome{failures: map[string]int{}, examples: map[string]string{}}
}

func (o *outcome) fail(reason, example string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failures[reason]++
	if _, ok := o.examples[reason]; !ok {
		o.examples[reason] = example
	}
}

func (o *outcome) add(local []sample) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ok = append(o.ok, local...)
}

func (o *outcome) failed() int {
	n := 0
	for _, c := range o.failures {
		n += c
	}
	return n
}

// perSecond is the rate of requests that passed their check.
func (o *outcome) perSecond() float64 {
	if o.elapsed <= 0 {
		return 0
	}
	return float64(len(o.ok)) / o.elapsed.Seconds()
}

// latencies are the checked requests' latencies, sorted.
func (o *outcome) latencies() []time.Duration {
	out := make([]time.Duration, len(o.ok))
	for i, s := range o.ok {
		out[i] = s.latency
	}
	slices.Sort(out)
	return out
}

// percentile is the nearest-rank percentile p (0..1) of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// send does request i and checks the answer.
func (t target) send(i int) (opID string, reason, example string) {
	resp, err := t.client.Do(t.request(i))
	if err != nil {
		return "", "transport error", err.Error()
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "", "reading the answer", err.Error()
	}
	opID, err = t.check(resp.StatusCode, body)
	if err != nil {
		return "", err.Error(), fmt.Sprintf("%d %.300s", resp.StatusCode, body)
	}
	return opID, "", ""
}

// closedLoop is the max-throughput mode: conns clients, each sending its
// next request as soon as the last one is answered, for d. Latency runs from
// each send, so it shows what a client waits, not the queue behind it.
func closedLoop(ctx context.Context, t target, conns int, d time.Duration) *outcome {
	out := newOutcome()
	var seq atomic.Int64
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			var local []sample
			for ctx.Err() == nil && time.Now().Before(end) {
				local = out.send(t, int(seq.Add(1)), time.Now(), local)
			}
			out.add(local)
		})
	}
	wg.Wait()
	out.elapsed = time.Since(start)
	return out
}

// send sends request i, due at due, and adds its sample to local, or
// counts its failure.
func (o *outcome) send(t target, i int, due time.Time, local []sample) []sample {
	opID, reason, example := t.send(i)
	if reason != "" {
		o.fail(reason, example)
		return local
	}
	return append(local, sample{latency: time.Since(due), due: due, opID: opID})
}

// openLoop is the fixed-rate mode: request i is due at start + i/rate,
// whatever happened to the others, and its latency runs from when it was
// due, so a target that falls behind shows it in every later request instead
// of slowing the generator down (no coordinated omission). At most
// maxInFlight are outstanding; a request due while all are taken goes out
// late, and its lateness counts. Requests still unsent when twice the run's
// length has passed are counted apart: the target fell that far behind.
func openLoop(ctx context.Context, t target, rate float64, d time.Duration, maxInFlight int) *outcome {
	out := newOutcome()
	n := int(rate * d.Seconds())
	period := time.Duration(float64(time.Second) / rate)
	start := time.Now().Add(10 * time.Millisecond) // the senders are ready before the first is due
	giveUp := start.Add(2*d + 5*time.Second)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(maxInFlight, max(n, 1)) {
		wg.Go(func() {
			var local []sample
			timer := time.NewTimer(0)
			defer timer.Stop()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					break
				}
				due := start.Add(time.Duration(i) * period)
				if wait := time.Until(due); wait > 0 {
					timer.Reset(wait)
					select {
					case <-ctx.Done():
						out.add(local)
						return
					case <-timer.C:
					}
				}
				if ctx.Err() != nil {
					break
				}
				if time.Now().After(giveUp) {
					out.unsent.Add(1)
					continue
				}
				local = out.send(t, i, due, local)
			}
			out.add(local)
		})
	}
	wg.Wait()
	out.elapsed = time.Since(start)
	return out
}
