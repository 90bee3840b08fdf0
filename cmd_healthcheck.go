package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

// runHealthcheck lets a distroless container check itself without curl: the
// API on CUSTOM_GPT_HTTP_ADDR, or with --worker a worker on CUSTOM_GPT_WORKER_ADDR.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string) error {
	cfg, err := service.LoadConfig(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	addr := cfg.HTTPAddr
	if len(args) > 0 && args[0] == "--worker" {
		if cfg.WorkerAddr == "" {
			return fmt.Errorf("CUSTOM_GPT_WORKER_ADDR is not set: the worker serves no health endpoint")
		}
		addr = cfg.WorkerAddr
	}
	_, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %s", resp.Status)
	}
	return nil
}
