// Package scrapelog logs for a metrics collector that reads Postgres or Redis
// on every scrape. A failed read is not an ERROR: the dependency being away
// is what readiness and the service's own errors report, and a line per
// scrape would only repeat it. The first failure is a WARN, the ones after it
// DEBUG, and the first read that works again an INFO.
package scrapelog

import (
	"log/slog"
	"sync/atomic"
)

// Log is one collector's log of its failed reads.
type Log struct {
	log     *slog.Logger
	what    string // what the collector exports, for the operator
	failing atomic.Bool
}

// New logs the reads of the collector exporting what to log; a nil log is
// slog.Default().
func New(log *slog.Logger, what string) *Log {
	if log == nil {
		log = slog.Default()
	}
	return &Log{log: log, what: what}
}

// Failed notes a read that failed: its metrics are left out of the scrape.
func (l *Log) Failed(err error) {
	if l.failing.CompareAndSwap(false, true) {
		l.log.Warn("metrics left out of scrapes until their source answers", "metrics", l.what, "error", err)
		return
	}
	l.log.Debug("metrics left out of a scrape", "metrics", l.what, "error", err)
}

// Succeeded notes a read that worked.
func (l *Log) Succeeded() {
	if l.failing.CompareAndSwap(true, false) {
		l.log.Info("metrics exported again", "metrics", l.what)
	}
}
