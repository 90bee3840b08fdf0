package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

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
