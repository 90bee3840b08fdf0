package cli

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"
)

// healthcheckCommand lets a distroless container check itself without curl:
// the API on CUSTOM_GPT_HTTP_ADDR, or with --worker a worker on
// CUSTOM_GPT_WORKER_ADDR.
func healthcheckCommand() *node {
	return leaf("healthcheck", "[--worker]",
		"exit 0 when the local API (or, with --worker, the worker on\nCUSTOM_GPT_WORKER_ADDR) answers /healthz (for containers)",
		func(fs *flag.FlagSet) action {
			worker := fs.Bool("worker", false, "check the worker on CUSTOM_GPT_WORKER_ADDR instead of the API")
			return func(ctx context.Context, c *call, args []string) error {
				if len(args) != 0 {
					return misuse("takes no arguments")
				}
				s, err := c.setup()
				if err != nil {
					return err
				}
				addr := s.HTTPAddr
				if *worker {
					if s.WorkerAddr == "" {
						return fmt.Errorf("CUSTOM_GPT_WORKER_ADDR is not set: the worker serves no health endpoint")
					}
					addr = s.WorkerAddr
				}
				return checkHealth(ctx, addr)
			}
		})
}

// checkHealth asks /healthz on the loopback at addr's port.
func checkHealth(ctx context.Context, addr string) error {
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
