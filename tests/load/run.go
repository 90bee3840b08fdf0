package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// run sets everything up, measures every cell, stops everything it started
// (also when ctx is cancelled or a step fails), and prints the report to out.
func run(ctx context.Context, opts options, out io.Writer) (_ *report, err error) {
	st := &stack{log: out}
	defer func() {
		if stopErr := st.unwind(); err == nil {
			err = stopErr
		}
	}()
	say := func(format string, args ...any) { fmt.Fprintf(out, "load: "+format+"\n", args...) }

	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	r := &report{started: time.Now(), opts: opts, createRate: opts.CreateRate, cpus: runtime.NumCPU(), model: cpuModel(), memory: memTotal(),
		commit: commit(ctx, root), rss: map[string]int64{}, logErrs: map[string]int{}, ready: map[string]time.Duration{}}

	if err := ensureServices(ctx, root, out); err != nil {
		return nil, err
	}
	if r.settings, err = serverSettings(ctx); err != nil {
		return nil, fmt.Errorf("reading the servers' settings: %w", err)
	}
	parent := opts.WorkParent
	if parent == "" {
		parent = filepath.Join(root, "tmp")
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(parent, "load-")
	if err != nil {
		return nil, err
	}
	st.push("work directory", func() error {
		if opts.Keep {
			say("logs and binary kept in %s", dir)
			return nil
		}
		return os.RemoveAll(dir)
	})

	say("building the adapter")
	bin, err := buildAdapter(ctx, root, dir)
	if err != nil {
		return nil, err
	}
	db, err := createDatabase(ctx)
	if err != nil {
		return nil, err
	}
	st.push("database "+db.name, db.drop)
	prefix := "custom_gpt_load_" + randomHex(6)
	st.push("streams "+prefix+"*", func() error { return dropStreams(prefix) })

	bank, err := startMem0(ctx, dir)
	if err != nil {
		return nil, err
	}
	st.push("fake mem0", func() error { return bank.stop(syscall.SIGTERM, 10*time.Second) })

	var proxy *nginx
	if opts.Nginx {
		bin := findNginx()
		if bin == "" && opts.InstallNginx {
			if bin, err = installNginx(ctx, out); err != nil {
				return nil, err
			}
		}
		if bin == "" {
			return nil, fmt.Errorf("nginx is not installed (run without -install-nginx=false, or with -nginx=false)")
		}
		if proxy, err = startNginx(ctx, bin, bank.url, opts.Keep, out, st); err != nil {
			return nil, err
		}
	} else {
		r.noNginx = "run with -nginx=false"
	}

	httpAddr, err := reserveAddr()
	if err != nil {
		return nil, err
	}
	workerAddr, err := reserveAddr()
	if err != nil {
		return nil, err
	}
	a := &adapter{bin: bin, url: "http://" + httpAddr,
		env: append(adapterEnv(db.url, prefix, bank.url, bank.key, httpAddr, workerAddr), opts.AdapterEnv...)}
	var prof *profiler
	if opts.Profile != "" {
		if prof, err = newProfiler(opts.Profile, workerAddr); err != nil {
			return nil, err
		}
		a.env = append(a.env, "CUSTOM_GPT_ADMIN_ADDR="+strings.TrimPrefix(prof.targets["api"], "http://"))
	}
	say("migrating, registering the application, starting api and worker")
	if err := a.setUp(ctx, opts.Scopes); err != nil {
		return nil, err
	}
	if err := a.start(ctx, dir, httpAddr, workerAddr, st); err != nil {
		return nil, err
	}
	pool, err := pgxpool.New(ctx, db.url+"&pool_max_conns=2")
	if err != nil {
		return nil, err
	}
	st.push("database pool", func() error { pool.Close(); return nil })

	say("signing the end user in: authorization code with PKCE, through the sign-in and consent pages")
	if err := a.signIn(ctx); err != nil {
		return nil, err
	}
	if err := a.checkBudgets(ctx); err != nil {
		return nil, err
	}
	sc, err := scopeOf(a.appID, "")
	if err != nil {
		return nil, err
	}
	userScope, err := scopeOf(a.appID, a.user.id)
	if err != nil {
		return nil, err
	}
	say("seeding %d memories in the API key's scope and %[1]d in the end user's", opts.Seed)
	for _, s := range []scope{sc, userScope} {
		if err := seed(ctx, bank, s, opts.Seed); err != nil {
			return nil, err
		}
	}

	m := &measurer{ctx: ctx, opts: opts, pool: pool, report: r, say: say, prof: prof, procs: []procGroup{
		{"load generator", func() []int { return []int{os.Getpid()} }},
		{"fake mem0", func() []int { return []int{bank.pid()} }},
		{"api", func() []int { return []int{a.api.pid()} }},
		{"worker", func() []int { return []int{a.worker.pid()} }},
	}}
	if proxy != nil {
		m.procs = append(m.procs, procGroup{"nginx", proxy.cpuPIDs})
	}
	m.procs = append(m.procs,
		procGroup{cpuPostgres, func() []int { return postgresBackends(ctx, pool, db.name) }},
		procGroup{cpuRedis, func() []int { return redisPIDs(ctx) }})
	m.workerTimeouts = func() int { return logTimeouts(a.worker) }
	m.dumpWorker = func() string {
		var files []string
		// Goroutines and metrics say where it is; 5 s of CPU and 3 s of its
		// execution trace say whether it works or waits, and on what.
		for _, d := range [][2]string{{"goroutines.txt", "debug/pprof/goroutine?debug=2"}, {"metrics.txt", "metrics"},
			{"cpu.pprof", "debug/pprof/profile?seconds=5"}, {"trace.out", "debug/pprof/trace?seconds=3"}} {
			what, path := d[0], d[1]
			file := filepath.Join(os.TempDir(), fmt.Sprintf("load-worker-%d-%s", a.worker.pid(), what))
			if err := fetchProfile(ctx, "http://"+workerAddr+"/"+path, file); err != nil {
				files = append(files, "no "+what+": "+err.Error())
				continue
			}
			files = append(files, "its "+what+": "+file)
		}
		slices.Sort(files)
		return strings.Join(files, ", ")
	}
	if err := m.measureAll(bank, proxy, a, sc, userScope); err != nil {
		return nil, err
	}

	for _, p := range []*process{a.api, a.worker} {
		if rss, err := peakRSS(p.pid()); err == nil {
			r.rss[p.name] = rss
		}
		r.logErrs[p.name] = logErrors(p)
		if p == a.worker {
			r.logErrs[p.name] -= r.pausedErrs
		}
		r.ready[p.name] = a.ready[p.name]
	}
	r.mem0Errs = bank.complaints()

	fmt.Fprintln(out)
	r.write(out)
	if opts.Markdown != "" {
		var b bytes.Buffer
		r.write(&b)
		if err := os.WriteFile(opts.Markdown, b.Bytes(), 0o644); err != nil {
			return r, err
		}
		say("report written to %s", opts.Markdown)
	}
	return r, nil
}

// moduleRoot is the directory of this module's go.mod, wherever the program
// was started from.
func moduleRoot(ctx context.Context) (string, error) {
	raw, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(raw))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run inside the module (go.mod not found)")
	}
	return filepath.Dir(mod), nil
}

// commit is the checkout's short commit, marked when files differ from it.
func commit(ctx context.Context, root string) string {
	git := func(args ...string) string {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = root
		raw, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(raw))
	}
	c := git("rev-parse", "--short", "HEAD")
	if c == "" {
		return "unknown"
	}
	if git("status", "--porcelain", "--untracked-files=no") != "" {
		c += " with local changes"
	}
	return c
}

// memTotal is the machine's memory, from /proc/meminfo.
func memTotal() string {
	raw, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	var kb int64
	for line := range strings.SplitSeq(string(raw), "\n") {
		if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
			return fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
		}
	}
	return "unknown"
}
