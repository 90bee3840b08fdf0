package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// every returns each command of the tree, groups and leaves, by path.
func every(n *node) []*node {
	var out []*node
	for _, s := range n.subs {
		out = append(out, s)
		out = append(out, every(s)...)
	}
	return out
}

// runMain runs a command line through Main, with a wiring that fails the
// test if the command reads its configuration.
func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, Env{Getenv: noEnv, Stdout: &out, Stderr: &errOut}, neverConnect(t))
	return code, out.String(), errOut.String()
}

// Every command and subcommand answers --help, -h and help with its own
// usage on stdout and exit 0, without connecting anything (serve --help
// starts nothing).
func TestHelpOfEveryCommand(t *testing.T) {
	t.Parallel()
	cmds := every(commands())
	if len(cmds) < 30 {
		t.Fatalf("the tree holds %d commands; is it whole?", len(cmds))
	}
	for _, cmd := range cmds {
		path := strings.Fields(cmd.path())
		forms := [][]string{
			append(append([]string{}, path...), "--help"),
			append(append([]string{}, path...), "-h"),
			append(append([]string{}, path...), "help"),
			append([]string{"help"}, path...),
		}
		if cmd.subs == nil && cmd.flags != nil {
			// Help wins over anything else on the line.
			forms = append(forms, append(append([]string{}, path...), "some-id", "--help"))
		}
		for _, args := range forms {
			code, out, errOut := runMain(t, args...)
			if code != 0 || errOut != "" {
				t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
			}
			if !isUsageOf(out, cmd.path()) {
				t.Errorf("%q printed %q, not the usage of %q", args, out, cmd.path())
			}
			for _, s := range cmd.subs {
				if !strings.Contains(out, "\n  "+s.name+" ") && !strings.Contains(out, "\n  "+s.name+"\n") {
					t.Errorf("%q does not list its command %q:\n%s", args, s.name, out)
				}
			}
		}
	}
}

func TestHelpOfTheProgram(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		code, out, errOut := runMain(t, args...)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "usage: custom-gpt-adapter <command>") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
		// The overview lists every leaf with its group.
		for _, cmd := range every(commands()) {
			if cmd.subs == nil && !strings.Contains(out, "\n  "+cmd.path()) {
				t.Errorf("%q does not list %q", args, cmd.path())
			}
		}
	}
}

// A command line that does not fit its command prints what is wrong and that
// command's usage to stderr, nothing to stdout, and exits 2, before anything
// is connected.
func TestWrongUsageExits2WithTheUsage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args  []string
		usage string // the command whose usage is printed
		says  string // in the error line; "" for none
	}{
		{nil, "", ""},
		{[]string{"launch"}, "", `unknown command "launch"`},
		{[]string{"help", "launch"}, "", `unknown command "launch"`},
		{[]string{"serve", "now"}, "serve", "takes no arguments"},
		{[]string{"worker", "--fast"}, "worker", "flag provided but not defined"},
		{[]string{"migrate", "up"}, "migrate", "takes no arguments"},
		{[]string{"healthcheck", "--api"}, "healthcheck", "flag provided but not defined"},
		{[]string{"apps"}, "apps", ""},
		{[]string{"apps", "delete"}, "apps", `unknown command "delete"`},
		{[]string{"apps", "create"}, "apps create", "--name is required"},
		{[]string{"apps", "create", "--name"}, "apps create", "flag needs an argument"},
		{[]string{"apps", "create", "--name", "Travel", "GPT"}, "apps create", "unexpected argument"},
		{[]string{"apps", "list", "all"}, "apps list", "takes no arguments"},
		{[]string{"apps", "add-redirect-uri", "app"}, "apps add-redirect-uri", "give APP_ID and URI"},
		{[]string{"apps", "rotate-key"}, "apps rotate-key", "give exactly one APP_ID"},
		{[]string{"apps", "rotate-secret", "a", "b"}, "apps rotate-secret", "give exactly one APP_ID"},
		{[]string{"apps", "disable"}, "apps disable", "give exactly one APP_ID"},
		{[]string{"apps", "set-limits", "app"}, "apps set-limits", "give --rps"},
		{[]string{"apps", "set-limits", "--rps", "1"}, "apps set-limits", "give an APP_ID"},
		{[]string{"apps", "set-limits", "--rps", "fast", "app"}, "apps set-limits", "invalid value"},
		{[]string{"apps", "set-webhook", "app"}, "apps set-webhook", "give APP_ID and URL"},
		{[]string{"apps", "rotate-webhook-secret", "--overlap", "1d", "app"}, "apps rotate-webhook-secret", "invalid value"},
		{[]string{"apps", "remove-webhook"}, "apps remove-webhook", "give exactly one APP_ID"},
		{[]string{"webhooks"}, "webhooks", ""},
		{[]string{"webhooks", "deliveries"}, "webhooks deliveries", "give exactly one APP_ID"},
		{[]string{"webhooks", "redeliver"}, "webhooks redeliver", "give exactly one DELIVERY_ID"},
		{[]string{"users"}, "users", ""},
		{[]string{"users", "create"}, "users create", "--email is required"},
		{[]string{"users", "disable"}, "users disable", "give exactly one USER_ID or EMAIL"},
		{[]string{"users", "export"}, "users export", "give --email EMAIL"},
		{[]string{"keys"}, "keys", ""},
		{[]string{"keys", "rotate", "now"}, "keys rotate", "takes no arguments"},
		{[]string{"keys", "rewrap", "old-key"}, "keys rewrap", "takes no arguments"},
		{[]string{"dlq"}, "dlq", ""},
		{[]string{"dlq", "list", "x"}, "dlq list", "takes no arguments"},
		{[]string{"dlq", "replay"}, "dlq replay", "give exactly one MESSAGE_ID, or --all"},
		{[]string{"dlq", "replay", "--all", "1-0"}, "dlq replay", "give exactly one MESSAGE_ID, or --all"},
		{[]string{"dlq", "drop"}, "dlq drop", "give exactly one MESSAGE_ID"},
	}
	for _, tc := range cases {
		code, out, errOut := runMain(t, tc.args...)
		if code != 2 || out != "" {
			t.Errorf("%q: exit %d, stdout %q; want 2 and nothing", tc.args, code, out)
		}
		first, rest, _ := strings.Cut(errOut, "\n")
		if tc.says == "" {
			rest = errOut // the usage comes first
		}
		if !isUsageOf(rest, tc.usage) {
			t.Errorf("%q: stderr %q is not the usage of %q", tc.args, errOut, tc.usage)
		}
		switch {
		case tc.says != "" && (!strings.HasPrefix(first, "custom-gpt-adapter: ") || !strings.Contains(first, tc.says)):
			t.Errorf("%q: first line %q, want the error saying %q", tc.args, first, tc.says)
		}
	}
}

// isUsageOf says whether text starts with the usage line of the command at path.
func isUsageOf(text, path string) bool {
	line, _, _ := strings.Cut(text, "\n")
	want := "usage: " + strings.TrimSpace("custom-gpt-adapter "+path)
	return line == want || strings.HasPrefix(line, want+" ")
}

// A group given no command, as `webhooks` alone, lists its commands.
func TestGroupAloneListsItsCommands(t *testing.T) {
	t.Parallel()
	for _, g := range commands().subs {
		if g.subs == nil {
			continue
		}
		_, _, errOut := runMain(t, g.name)
		for _, s := range g.subs {
			if !strings.Contains(errOut, "\n  "+s.name) {
				t.Errorf("%s alone does not list %s:\n%s", g.name, s.name, errOut)
			}
		}
	}
}
