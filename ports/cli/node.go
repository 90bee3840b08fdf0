package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// node is one command of the tree: a group, whose subcommands do the work,
// or a leaf, which declares its flags and runs.
type node struct {
	name     string // as typed
	synopsis string // the arguments after the name, as the usage line shows them
	summary  string // what it does; each "\n" starts a new line of the listing
	subs     []*node
	// flags declares a leaf's flags on fs and returns what runs it with the
	// positional arguments. It must not connect anything: help and usage
	// errors come before any connection.
	flags  func(fs *flag.FlagSet) action
	parent *node
}

// action runs a leaf with its positional arguments. An argument that does not
// fit is reported with misuse, before anything is connected.
type action func(ctx context.Context, c *call, args []string) error

// group builds a command with subcommands.
func group(name, summary string, subs ...*node) *node {
	g := &node{name: name, summary: summary, subs: subs}
	for _, s := range subs {
		s.parent = g
	}
	return g
}

// leaf builds a command that runs.
func leaf(name, synopsis, summary string, flags func(fs *flag.FlagSet) action) *node {
	return &node{name: name, synopsis: synopsis, summary: summary, flags: flags}
}

// noFlags is a leaf's flags when it has none.
func noFlags(run action) func(*flag.FlagSet) action {
	return func(*flag.FlagSet) action { return run }
}

// path is the command as typed after the program's name ("apps create").
func (cmd *node) path() string {
	if cmd.parent == nil {
		return ""
	}
	if p := cmd.parent.path(); p != "" {
		return p + " " + cmd.name
	}
	return cmd.name
}

func (cmd *node) find(name string) *node {
	for _, s := range cmd.subs {
		if s.name == name {
			return s
		}
	}
	return nil
}

// isHelp says whether arg asks for help rather than naming something.
func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

// wantsHelp says whether a leaf's arguments ask for its help: `help` first, or
// -h/--help anywhere before a "--". No identifier or email a command takes
// can be one of these words.
func wantsHelp(args []string) bool {
	if len(args) > 0 && args[0] == "help" {
		return true
	}
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a != "help" && isHelp(a) {
			return true
		}
	}
	return false
}

// run dispatches args to the subcommand they name, or runs the leaf.
func (cmd *node) run(ctx context.Context, c *call, args []string) error {
	if cmd.subs != nil {
		switch {
		case len(args) == 0:
			return cmd.misuse(nil)
		case args[0] == "help" && len(args) > 1:
			// `help apps create` is `apps create --help`.
			sub := cmd.find(args[1])
			if sub == nil {
				return cmd.misuse(fmt.Errorf("unknown command %q", args[1]))
			}
			return sub.run(ctx, c, append(slices.Clone(args[2:]), "--help"))
		case isHelp(args[0]):
			return cmd.printUsage(c.env.Stdout)
		}
		sub := cmd.find(args[0])
		if sub == nil {
			return cmd.misuse(fmt.Errorf("unknown command %q", args[0]))
		}
		return sub.run(ctx, c, args[1:])
	}
	if wantsHelp(args) {
		return cmd.printUsage(c.env.Stdout)
	}
	fs := cmd.flagSet()
	act := cmd.flags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return cmd.misuse(err)
	}
	err = act(ctx, c, pos)
	var m misuseError
	if errors.As(err, &m) {
		return cmd.misuse(m)
	}
	return err
}

func (cmd *node) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet(cmd.path(), flag.ContinueOnError)
	// Main prints the error and the usage; the flag package would print both too.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// misuseError is an argument that does not fit its command; run turns it into
// a UsageError that carries the command's usage.
type misuseError string

func (m misuseError) Error() string { return string(m) }

// misuse reports an argument that does not fit, from inside an action.
func misuse(format string, a ...any) error { return misuseError(fmt.Sprintf(format, a...)) }

func (cmd *node) misuse(err error) error {
	return &UsageError{Command: cmd.path(), Err: err, usage: cmd.usage()}
}

// ErrUsage is what every UsageError is (errors.Is).
var ErrUsage = errors.New("wrong usage")

// UsageError is a command line its command cannot run. Main prints it and the
// command's usage to stderr and exits 2.
type UsageError struct {
	Command string // as typed after the program's name; "" for none
	Err     error  // what does not fit; nil when the command is incomplete
	usage   string
}

func (e *UsageError) Error() string {
	msg := "usage"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Command == "" {
		return msg
	}
	return e.Command + ": " + msg
}

func (e *UsageError) Unwrap() error        { return e.Err }
func (e *UsageError) Is(target error) bool { return target == ErrUsage }

// Usage is the usage of the command that refused the line.
func (e *UsageError) Usage() string { return e.usage }

// parseInterspersed parses flags given before or after the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// stringList collects a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }
