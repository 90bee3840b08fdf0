package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

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

// misuseError is an argument that does not fit its command; run turns it into
// a UsageError that carries the command's usage.
type misuseError string

func (m misuseError) Error() string { return string(m) }

// misuse reports an argument that does not fit, from inside an action.
func misuse(format string, a ...any) error { return misuseError(fmt.Sprintf(format, a...)) }

// refuse is err as a UsageError of this command.
func (cmd *node) refuse(err error) error {
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

func (cmd *node) printUsage(w io.Writer) error {
	_, err := io.WriteString(w, cmd.usage())
	return err
}

// usage is the command's help: its usage line, what it does, and its
// commands or flags.
func (cmd *node) usage() string {
	var b strings.Builder
	name := strings.TrimSpace(program + " " + cmd.path())
	switch {
	case cmd.parent == nil:
		fmt.Fprintf(&b, "usage: %s <command> [arguments]\n\ncommands:\n", program)
		for _, s := range cmd.subs {
			if s.subs == nil {
				s.listLine(&b, "")
				continue
			}
			for _, leaf := range s.subs {
				leaf.listLine(&b, s.name+" ")
			}
		}
		fmt.Fprintf(&b, "\n%s\nRun `%s <command> --help` for a command's usage.\n", cmd.summary, program)
	case cmd.subs != nil:
		fmt.Fprintf(&b, "usage: %s <command> [arguments]\n\n%s\n\ncommands:\n", name, sentence(cmd.summary))
		for _, s := range cmd.subs {
			s.listLine(&b, "")
		}
		fmt.Fprintf(&b, "\nRun `%s <command> --help` for a command's usage.\n", name)
	default:
		fmt.Fprintf(&b, "usage: %s\n\n%s\n", strings.TrimSpace(name+" "+cmd.synopsis), sentence(cmd.summary))
		fs := cmd.flagSet()
		cmd.flags(fs)
		if hasFlags(fs) {
			b.WriteString("\nflags:\n")
			printFlags(&b, fs)
		}
	}
	return b.String()
}

// program is the name the usage gives the binary.
const program = "custom-gpt-adapter"

// listColumn is where the summaries of a listing start.
const listColumn = 30

// listLine writes the leaf's entry in a listing: name and synopsis, then its
// summary from listColumn on (on the next line when the name is too long).
func (cmd *node) listLine(b *strings.Builder, prefix string) {
	head := "  " + strings.TrimSpace(prefix+cmd.name+" "+cmd.synopsis)
	if len(head) >= listColumn {
		b.WriteString(head + "\n")
		head = ""
	}
	for _, l := range strings.Split(cmd.summary, "\n") {
		fmt.Fprintf(b, "%-*s%s\n", listColumn, head, l)
		head = ""
	}
}

// sentence is a listing's summary as one paragraph starting with a capital.
func sentence(summary string) string {
	s := strings.Join(strings.Fields(summary), " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// printFlags lists flags as they are usually typed, with two dashes.
func printFlags(b *strings.Builder, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(b, "  --%s", f.Name)
		if arg != "" {
			fmt.Fprintf(b, " %s", arg)
		}
		fmt.Fprintf(b, "\n        %s", usage)
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
			fmt.Fprintf(b, " (default %s)", f.DefValue)
		}
		b.WriteString("\n")
	})
}
