package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"text/template"
	"time"
)

// findNginx is the nginx binary, or "" when none is installed. /usr/sbin is
// not on every user's PATH.
func findNginx() string {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	return ""
}

// installNginx installs Debian's nginx-light, or nginx where that package is
// gone (Debian 13), refreshing the package lists only when neither is known.
func installNginx(ctx context.Context, out io.Writer) (string, error) {
	var sudo []string
	if os.Geteuid() != 0 {
		sudo = []string{"sudo"}
	}
	run := func(args ...string) error {
		args = append(sudo, args...)
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, out, out
		return cmd.Run()
	}
	known := func(pkg string) bool {
		raw, err := exec.CommandContext(ctx, "apt-cache", "policy", pkg).Output()
		return err == nil && strings.Contains(string(raw), "Candidate:") && !strings.Contains(string(raw), "Candidate: (none)")
	}
	pick := func() string {
		for _, pkg := range []string{"nginx-light", "nginx"} {
			if known(pkg) {
				return pkg
			}
		}
		return ""
	}
	pkg := pick()
	if pkg == "" {
		if err := run("apt-get", "update"); err != nil {
			return "", fmt.Errorf("apt-get update: %w", err)
		}
		if pkg = pick(); pkg == "" {
			return "", fmt.Errorf("neither nginx-light nor nginx is in the package lists")
		}
	}
	fmt.Fprintf(out, "load: installing %s (a packaged nginx service may start on port 80; this run uses its own)\n", pkg)
	if err := run("apt-get", "install", "-y", "--no-install-recommends", pkg); err != nil {
		return "", fmt.Errorf("apt-get install %s: %w", pkg, err)
	}
	if p := findNginx(); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("%s installed, but no nginx binary found", pkg)
}

// nginxConfig proxies everything to the fake mem0 over kept-alive upstream
// connections, logging nothing per request, with every path it writes in
// the run's own directory.
var nginxConfig = template.Must(template.New("nginx.conf").Parse(`daemon off;
worker_processes auto;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log warn;

events {
    worker_connections 4096;
}

http {
    access_log off;
    client_body_temp_path {{.Dir}}/client_body;
    proxy_temp_path {{.Dir}}/proxy;
    fastcgi_temp_path {{.Dir}}/fastcgi;
    uwsgi_temp_path {{.Dir}}/uwsgi;
    scgi_temp_path {{.Dir}}/scgi;

    upstream mem0 {
        server {{.Upstream}};
        keepalive 64;
        keepalive_requests 1000000;
    }

    server {
        listen {{.Listen}};
        keepalive_requests 1000000;

        location / {
            proxy_pass http://mem0;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
`))

type nginx struct {
	*process
	url string
}

// startNginx runs its own nginx in the foreground with a generated config.
// Its directory is outside the repository and readable by all: the workers
// drop root for nobody.
func startNginx(ctx context.Context, bin, upstream string, keep bool, out io.Writer, st *stack) (*nginx, error) {
	dir, err := os.MkdirTemp("", "load-nginx-")
	if err != nil {
		return nil, err
	}
	st.push("nginx directory", func() error {
		if keep {
			fmt.Fprintf(out, "load: nginx's config and logs kept in %s\n", dir)
			return nil
		}
		return os.RemoveAll(dir)
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	listen, err := reserveAddr()
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "nginx.conf")
	f, err := os.Create(conf)
	if err != nil {
		return nil, err
	}
	err = nginxConfig.Execute(f, map[string]string{"Dir": dir, "Upstream": u.Host, "Listen": listen})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	// -e: the error log before the config is read, which is otherwise the
	// packaged /var/log/nginx/error.log.
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	// SIGTERM is nginx's fast shutdown: the master stops its workers.
	p, err := startProcess("nginx", cmd, filepath.Join(dir, "stderr.log"), syscall.SIGTERM)
	if err != nil {
		return nil, err
	}
	n := &nginx{process: p, url: "http://" + listen}
	st.push("nginx", func() error { return p.stop(syscall.SIGTERM, 10*time.Second) })
	// Any path answers once nginx is up: the fake's own 404 for "/" proves
	// the proxying too, so wait for a TCP answer, not a 200.
	deadline := time.Now().Add(15 * time.Second)
	for {
		if err := dialable(listen); err == nil {
			return n, nil
		}
		select {
		case <-p.exited:
			errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return nil, fmt.Errorf("nginx exited at start: %v\n%s%s", p.err, p.tail(), errLog)
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("nginx did not listen on %s within 15s", listen)
		}
	}
}

// cpuPIDs are the master and its workers.
func (n *nginx) cpuPIDs() []int { return append([]int{n.pid()}, childrenOf(n.pid())...) }
