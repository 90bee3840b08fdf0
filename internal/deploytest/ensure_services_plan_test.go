package deploytest

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/addrtest"
)

// What scripts/ensure-services.sh would do on machines of every kind, told by
// ENSURE_SERVICES_DRY_RUN=1. Each machine is a PATH of stub executables
// (nothing of the real one), and the services are looked for on reserved,
// closed ports: the machine's own PostgreSQL and Redis are never touched.
func TestEnsureServicesPlan(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	compose := "would run: docker compose -f " + root + "/compose.yaml -f " + root + "/compose.dev.yaml up -d --wait"
	// apt-get runs as root: itself when the test is root, else through sudo.
	asRoot := "would run: sudo -n "
	if os.Geteuid() == 0 {
		asRoot = "would run: "
	}
	// The hanging daemon's case runs the machine's own timeout(1) and sleep(1).
	timeoutPath, terr := exec.LookPath("timeout")
	sleepPath, serr := exec.LookPath("sleep")
	haveTimeout := terr == nil && serr == nil
	var (
		linux  = "echo Linux"
		darwin = "echo Darwin"
		ok     = "exit 0"
		// Docker whose compose plugin is there but whose daemon is not.
		noDaemon = `[ "$1" = info ] && exit 1; exit 0`
		// Homebrew with nothing installed yet.
		brew = `[ "$1" = list ] && exit 1; exit 0`
	)
	for _, tc := range []struct {
		name      string
		stubs     map[string]string
		redisUp   bool
		hangs     bool // needs the machine's timeout(1) and sleep(1)
		rootOnly  bool // the machine's user must be root (sudo is refused)
		userOnly  bool // the machine's user must not be root
		fails     bool
		want      []string
		wantNot   []string
		wantLines []string // whole lines
	}{{
		name:      "Docker with compose before any package manager",
		stubs:     map[string]string{"uname": linux, "docker": ok, "apt-get": ok, "sudo": ok},
		wantLines: []string{compose + " postgres redis"},
		wantNot:   []string{"apt-get", "brew"},
	}, {
		name:      "Docker starts only what is missing",
		stubs:     map[string]string{"uname": linux, "docker": ok},
		redisUp:   true,
		wantLines: []string{compose + " postgres"},
	}, {
		name:  "apt-get when the Docker daemon does not answer",
		stubs: map[string]string{"uname": linux, "docker": noDaemon, "apt-get": ok, "sudo": ok},
		want: []string{
			asRoot + "env DEBIAN_FRONTEND=noninteractive apt-get update -q",
			asRoot + "env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql redis-server",
		},
		wantNot: []string{"docker compose -f"},
	}, {
		name: "apt-get when the Docker daemon hangs, once timeout(1) gives up on it",
		stubs: map[string]string{"uname": linux, "docker": `[ "$1" = info ] && exec ` + sleepPath + ` 60; exit 0`,
			"timeout": `exec ` + timeoutPath + ` "$@"`, "apt-get": ok, "sudo": ok},
		hangs:   true,
		want:    []string{asRoot + "env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql redis-server"},
		wantNot: []string{"docker compose -f"},
	}, {
		name:  "apt-get installs, trusts local connections as postgres, starts both",
		stubs: map[string]string{"uname": linux, "apt-get": ok, "sudo": ok},
		want: []string{
			asRoot + "env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql redis-server",
			"-e '1i host all postgres 127.0.0.1/32 trust' -e '1i host all postgres ::1/128 trust' /etc/postgresql/",
			"pg_ctlcluster --skip-systemctl-redirect ",
			"redis-server --daemonize yes --bind 127.0.0.1 -::1 --port ",
			"would create database 'custom_gpt' if missing",
		},
	}, {
		name:    "apt-get installs only what is missing",
		stubs:   map[string]string{"uname": linux, "apt-get": ok, "sudo": ok},
		redisUp: true,
		want: []string{
			"apt-get install -y -q postgresql\n",
		},
		wantNot: []string{"redis-server"},
	}, {
		name:  "Homebrew on macOS",
		stubs: map[string]string{"uname": darwin, "brew": brew, "apt-get": ok},
		wantLines: []string{
			"ensure-services: would run: brew install postgresql@17",
			"ensure-services: would run: brew services start postgresql@17",
			"ensure-services: would run: brew install redis",
			"ensure-services: would run: brew services start redis",
		},
		want:    []string{"createuser -h 127.0.0.1"},
		wantNot: []string{"apt-get"},
	}, {
		name:     "apt-get without root or password-less sudo names the command",
		stubs:    map[string]string{"uname": linux, "apt-get": ok, "sudo": "exit 1"},
		userOnly: true,
		fails:    true,
		want:     []string{"Run:\n  sudo bash scripts/ensure-services.sh"},
	}, {
		name:  "nothing at all names the command",
		stubs: map[string]string{"uname": linux},
		fails: true,
		want: []string{
			"ERROR: PostgreSQL on 127.0.0.1:",
			" are not reachable, and nothing here may start them",
			"Run:\n  go tool task deps   once Docker",
		},
	}, {
		name:    "nothing on macOS names Homebrew",
		stubs:   map[string]string{"uname": darwin},
		redisUp: true,
		fails:   true,
		want:    []string{" is not reachable, and nothing here may start it", "Run:\n  go tool task deps   once Homebrew is installed"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.userOnly && os.Geteuid() == 0 {
				t.Skip("as root apt-get needs no sudo")
			}
			if tc.hangs && !haveTimeout {
				t.Skip("timeout(1) or sleep(1) is not installed")
			}
			redisAddr := addrtest.ReserveTCP(t)
			if tc.redisUp {
				redisAddr = fakeRedis(t)
			}
			out, calls, err := runEnsureServices(t, tc.stubs, addrtest.ReserveTCP(t), redisAddr, true)
			if tc.fails != (err != nil) {
				t.Fatalf("exit: %v, want failure %v\n%s", err, tc.fails, out)
			}
			lines := strings.Split(out, "\n")
			for _, w := range tc.wantLines {
				if !containsLine(lines, w) {
					t.Errorf("no line %q in:\n%s", w, out)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("no %q in:\n%s", w, out)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(out, w) {
					t.Errorf("%q in:\n%s", w, out)
				}
			}
			// A dry run asks; it never installs, starts or edits.
			for _, c := range calls {
				switch {
				case c == "uname -s", c == "docker compose version", c == "docker info", c == "sudo -n true", c == "timeout 1 docker info",
					strings.HasPrefix(c, "brew list --versions "), strings.HasPrefix(c, "brew --prefix "):
				default:
					t.Errorf("the dry run ran %q", c)
				}
			}
		})
	}
}

// With everything up, the script says nothing and calls nothing.
func TestEnsureServicesIsQuietWhenAllRuns(t *testing.T) {
	t.Parallel()
	pg, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	go func() {
		for {
			c, err := pg.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	out, calls, err := runEnsureServices(t, map[string]string{"uname": "echo Linux", "docker": "exit 0"},
		pg.Addr().String(), fakeRedis(t), false)
	if err != nil || out != "" || len(calls) != 0 {
		t.Fatalf("exit %v, output %q, calls %q: want success, silence and no call", err, out, calls)
	}
}

// runEnsureServices runs the script with PATH holding only the given stubs
// (name -> sh body), each logging its arguments, and the services looked for
// at pgAddr and redisAddr. It returns the combined output and the stubs' calls.
func runEnsureServices(t *testing.T, stubs map[string]string, pgAddr, redisAddr string, dryRun bool) (string, []string, error) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	logFile := filepath.Join(dir, "calls")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range stubs {
		script := "#!/bin/sh\necho \"" + name + " $*\" >>\"$STUB_LOG\"\n" + body + "\n"
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, pgPort, _ := net.SplitHostPort(pgAddr)
	_, redisPort, _ := net.SplitHostPort(redisAddr)
	cmd := exec.Command(bash, filepath.Join(repoRoot, "scripts/ensure-services.sh"))
	cmd.Env = []string{
		"PATH=" + bin,
		"HOME=" + dir,
		"STUB_LOG=" + logFile,
		"ENSURE_SERVICES_PG_PORT=" + pgPort,
		"ENSURE_SERVICES_REDIS_PORT=" + redisPort,
		"ENSURE_SERVICES_TIMEOUT=5",
		"ENSURE_SERVICES_DOCKER_TIMEOUT=1",
	}
	if dryRun {
		cmd.Env = append(cmd.Env, "ENSURE_SERVICES_DRY_RUN=1")
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run the script: %v", err)
	}
	logged, rerr := os.ReadFile(logFile)
	if rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		t.Fatal(rerr)
	}
	var calls []string
	for s := bufio.NewScanner(bytes.NewReader(logged)); s.Scan(); {
		calls = append(calls, s.Text())
	}
	return string(out), calls, err
}

// fakeRedis answers every line with +PONG, as a Redis answers PING: enough
// for the script's check. It returns its address.
func fakeRedis(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				for r := bufio.NewReader(c); ; {
					if _, err := r.ReadString('\n'); err != nil {
						return
					}
					if _, err := c.Write([]byte("+PONG\r\n")); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want || strings.TrimPrefix(l, "ensure-services: ") == want {
			return true
		}
	}
	return false
}
