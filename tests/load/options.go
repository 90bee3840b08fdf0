package main

import (
	"flag"
	"fmt"
	"strings"
	"time"
)

// options are the knobs of one run; the defaults make a full run of a few
// minutes on two cores.
type options struct {
	Duration     time.Duration // measured part of each cell
	Warmup       time.Duration // unmeasured load before it, same shape
	Conns        int           // closed-loop connections of the max-throughput rows
	SearchRate   float64       // arrivals per second of the fixed-rate search row
	CreateRate   float64       // arrivals per second of the create → succeeded row
	StoppedRate  float64       // arrivals per second of the creates accepted with the worker stopped
	MaxInFlight  int           // open-loop requests outstanding at most (then sends are late, and it shows)
	Seed         int           // memories in each scope searched (the API key's, the end user's)
	Scopes       int           // applications (API keys, so memory scopes) the creates go round
	Nginx        bool          // measure through nginx
	InstallNginx bool          // apt-get install it when missing
	Markdown     string        // also write the report here
	Keep         bool          // keep the work directory (logs, the binary)
	Profile      string        // write api's and worker's CPU and allocation profiles and execution traces of each adapter cell here
	WorkParent   string        // where the work directory goes; "": tmp/ of the module
	Settle       time.Duration // how long to wait for the adapter to go quiet between cells
	AdapterEnv   []string      // KEY=VALUE settings added to the adapter's environment (GOGC, CUSTOM_GPT_*)
	SearchesOnly bool          // measure the search rows and stop: a quick before and after of the read path
	Rounds       int           // the search rows' cells measured in turn this many times, Duration split between them
}

func defaultOptions() options {
	return options{
		Duration: 10 * time.Second, Warmup: 2 * time.Second, Conns: 32,
		SearchRate: 1000, CreateRate: 1000, StoppedRate: 5000, MaxInFlight: 512, Seed: 300, Scopes: 1,
		Nginx: true, InstallNginx: true, Settle: 2 * time.Minute, Rounds: 3,
	}
}

func (o *options) register(fs *flag.FlagSet) {
	fs.DurationVar(&o.Duration, "duration", o.Duration, "measured time of each cell")
	fs.DurationVar(&o.Warmup, "warmup", o.Warmup, "load before each cell's measurement, not counted")
	fs.IntVar(&o.Conns, "conns", o.Conns, "connections of the max-throughput (closed-loop) rows")
	fs.Float64Var(&o.SearchRate, "search-rate", o.SearchRate, "searches per second of the fixed-rate row")
	fs.Float64Var(&o.CreateRate, "create-rate", o.CreateRate, "creates per second of the create → succeeded row")
	fs.Float64Var(&o.StoppedRate, "stopped-create-rate", o.StoppedRate, "creates per second accepted at a fixed rate while the worker is stopped: the latency until 202 of api with the machine to itself")
	fs.IntVar(&o.MaxInFlight, "max-inflight", o.MaxInFlight, "open-loop requests outstanding at most; later ones are sent late and their latency counts from when they were due")
	fs.IntVar(&o.Seed, "seed", o.Seed, "memories stored in each searched scope (the API key's, the end user's) before the search rows")
	fs.IntVar(&o.Scopes, "scopes", o.Scopes, "applications the creates go round, one memory scope each: the writes of one scope take effect one after another")
	fs.BoolVar(&o.Nginx, "nginx", o.Nginx, "measure through nginx too")
	fs.BoolVar(&o.InstallNginx, "install-nginx", o.InstallNginx, "install nginx with apt-get when it is missing (sudo unless root)")
	fs.StringVar(&o.Markdown, "markdown", o.Markdown, "write the report as Markdown to this file as well")
	fs.BoolVar(&o.Keep, "keep", o.Keep, "keep the work directory (the processes' logs, the binary) and print where it is")
	fs.StringVar(&o.Profile, "profile", o.Profile, "write Go's CPU and allocation profiles and execution traces of api and worker during each adapter cell to this directory (go tool pprof; go tool trace -pprof=sync for where requests wait; they cost the processes a little)")
	fs.Func("adapter-env", "KEY=VALUE added to the adapter processes' environment, over the run's own (repeat it; e.g. GOGC=200)", func(kv string) error {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return fmt.Errorf("%q is not KEY=VALUE", kv)
		}
		o.AdapterEnv = append(o.AdapterEnv, kv)
		return nil
	})
	fs.IntVar(&o.Rounds, "rounds", o.Rounds, "measure the search rows' columns in turn this many times, each for duration/rounds: the host's speed drifts within minutes, so each ratio compares cells measured seconds apart (1: each cell once)")
	fs.BoolVar(&o.SearchesOnly, "searches-only", o.SearchesOnly, "measure only the search rows (a minute instead of several), for comparing changes to the read path")
	fs.DurationVar(&o.Settle, "settle", o.Settle, "how long to wait, between cells, for the worker and the outbox relay to catch up")
}
