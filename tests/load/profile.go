package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// profiler takes Go's CPU and allocation profiles and execution traces of api
// and worker while an adapter cell is measured (-profile DIR), from their
// operators' listeners: api's admin listener, the worker's. A profile costs
// its process a few per cent, so a run that profiles is for reading where
// the time goes, not for the table.
type profiler struct {
	dir     string
	targets map[string]string // process name → base URL of its /debug/pprof
}

func newProfiler(dir, workerAddr string) (*profiler, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	admin, err := reserveAddr()
	if err != nil {
		return nil, err
	}
	return &profiler{dir: dir, targets: map[string]string{"api": "http://" + admin, "worker": "http://" + workerAddr}}, nil
}

// during starts each process's profiles for d and returns a wait for them;
// they are written to dir as <cell>.<process>.{cpu,allocs,trace}.pprof.
//
// only, when given, names the processes to profile: a stopped one would
// answer only once continued.
func (p *profiler) during(ctx context.Context, cell string, d time.Duration, only ...string) func() error {
	if p == nil {
		return func() error { return nil }
	}
	secs := max(int(d/time.Second), 1)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for name, base := range p.targets {
		if len(only) > 0 && !slices.Contains(only, name) {
			continue
		}
		for kind, path := range map[string]string{"cpu": "profile", "allocs": "allocs", "trace": "trace"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				file := filepath.Join(p.dir, fmt.Sprintf("%s.%s.%s.pprof", slug(cell), name, kind))
				if err := fetchProfile(ctx, fmt.Sprintf("%s/debug/pprof/%s?seconds=%d", base, path, secs), file); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("%s profile of %s: %w", kind, name, err))
					mu.Unlock()
				}
			}()
		}
	}
	return func() error {
		wg.Wait()
		if len(errs) > 0 {
			return errs[0]
		}
		return nil
	}
}

func fetchProfile(ctx context.Context, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// slug names a file after a cell: "search max, adapter" → "search-max-adapter".
func slug(s string) string {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	})
	return strings.Join(words, "-")
}
