package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// table writes a Markdown table with its columns padded to one width.
func table(w io.Writer, header []string, body [][]string, right []bool) {
	width := make([]int, len(header))
	for _, line := range append([][]string{header}, body...) {
		for i, s := range line {
			width[i] = max(width[i], len([]rune(s)))
		}
	}
	pad := func(line []string) string {
		var b strings.Builder
		b.WriteString("|")
		for i, s := range line {
			gap := strings.Repeat(" ", width[i]-len([]rune(s)))
			if right[i] {
				fmt.Fprintf(&b, " %s%s |", gap, s)
			} else {
				fmt.Fprintf(&b, " %s%s |", s, gap)
			}
		}
		return b.String()
	}
	fmt.Fprintln(w, pad(header))
	rule := make([]string, len(header))
	for i := range rule {
		rule[i] = strings.Repeat("-", max(width[i]-1, 2))
		if right[i] {
			rule[i] += ":"
		} else {
			rule[i] += "-"
		}
	}
	fmt.Fprintln(w, "|"+strings.Join(surround(rule), "|")+"|")
	for _, line := range body {
		fmt.Fprintln(w, pad(line))
	}
}

func surround(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = " " + c + " "
	}
	return out
}

// ms is a latency in milliseconds, with two decimals below 10 ms.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 10 {
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}

// thousands is v rounded, with commas: 10,328.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
