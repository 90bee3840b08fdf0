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

// run dispatches args to the subcommand they name, or runs the leaf.
func (cmd *node) run(ctx context.Context, c *call, args []string) error {
	if cmd.subs != nil {
		switch {
		case len(args) == 0:
			return cmd.refuse(nil)
		case args[0] == "help" && len(args) > 1:
			// `help apps create` is `apps create --help`.
			sub := cmd.find(args[1])
			if sub == nil {
				return cmd.refuse(fmt.Errorf("unknown command %q", args[1]))
			}
			return sub.run(ctx, c, append(slices.Clone(args[2:]), "--help"))
		case isHelp(args[0]):
			return cmd.printUsage(c.env.Stdout)
		}
		sub := cmd.find(args[0])
		if sub == nil {
			return cmd.refuse(fmt.Errorf("unknown command %q", args[0]))
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
		return cmd.refuse(err)
	}
	err = act(ctx, c, pos)
	var m misuseError
	if errors.As(err, &m) {
		return cmd.refuse(m)
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
