package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// process is a long-lived child: the fake mem0, nginx, api or worker.
type process struct {
	name   string
	cmd    *exec.Cmd
	log    string // its output, in the work directory
	exited chan struct{}
	err    error // set before exited closes
	began  time.Time
}

// startProcess runs cmd in its own process group, so the terminal's Ctrl-C
// reaches the load program only and the children are stopped in order; and
// with deathSig as its parent-death signal, so none outlives a load program
// that was killed outright.
func startProcess(name string, cmd *exec.Cmd, logPath string, deathSig syscall.Signal) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	if cmd.Stdout == nil {
		cmd.Stdout = logFile
	}
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: deathSig}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, exited: make(chan struct{}), began: began}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// stop asks the process to end with sig and kills it after grace.
func (p *process) stop(sig syscall.Signal, grace time.Duration) error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
		var exit *exec.ExitError
		if errors.As(p.err, &exit) && exit.ExitCode() != 0 {
			return fmt.Errorf("%s exited with %v (log: %s)", p.name, p.err, p.tail())
		}
		return nil
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("%s did not stop within %s after %v: killed", p.name, grace, sig)
	}
}

// tail is the end of the process's log, for error messages.
func (p *process) tail() string {
	raw, _ := os.ReadFile(p.log)
	s := strings.TrimSpace(string(raw))
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}

// awaitHTTP polls url until it answers 200, the process ends or the deadline passes.
func (p *process) awaitHTTP(ctx context.Context, url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before %s answered: %v\n%s", p.name, url, p.err, p.tail())
		case <-ctx.Done():
			return context.Cause(ctx)
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %s did not answer 200 within %s\n%s", p.name, url, within, p.tail())
		}
		time.Sleep(5 * time.Millisecond) // polling: how soon it answers is measured (adapter.start)
	}
}
