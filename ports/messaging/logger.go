package messaging

import (
	"context"
	"errors"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill"
)

// NewLogger is Watermill's slog adapter, with the levels of this service: an
// ERROR means someone must act. Watermill logs as errors what is routine here:
// a read or claim its own shutdown cut short (context canceled), and a failed
// attempt that the retry middleware runs again (only a parked command is one
// to act on, and the poison stream reports it). Its INFO is chatter here (a
// line per handler and subscriber as they start and stop, some 180 at each
// start), so it comes out at DEBUG.
//
// Watermill's adapter turns a line's fields into slog attributes before slog
// drops it for its level, and the relay and the stream subscribers write a
// TRACE or DEBUG line per message: 6 % of the relay's CPU. Lines below the
// handler's level are dropped here, before that.
func NewLogger(log *slog.Logger) watermill.LoggerAdapter {
	if log == nil {
		log = slog.Default()
	}
	return quietLogger{LoggerAdapter: watermill.NewSlogLogger(log), log: log}
}

type quietLogger struct {
	watermill.LoggerAdapter
	log *slog.Logger // for its handler's level only
}

func (l quietLogger) enabled(level slog.Level) bool {
	return l.log.Enabled(context.Background(), level)
}

func (l quietLogger) Info(msg string, fields watermill.LogFields) {
	l.Debug(msg, fields)
}

func (l quietLogger) Debug(msg string, fields watermill.LogFields) {
	if l.enabled(slog.LevelDebug) {
		l.LoggerAdapter.Debug(msg, fields)
	}
}

func (l quietLogger) Trace(msg string, fields watermill.LogFields) {
	if l.enabled(watermill.LevelTrace) {
		l.LoggerAdapter.Trace(msg, fields)
	}
}

func (l quietLogger) Error(msg string, err error, fields watermill.LogFields) {
	switch {
	case errors.Is(err, context.Canceled):
		l.Debug(msg, fields.Add(watermill.LogFields{"error": err}))
	case msg == "Error occurred, retrying":
		// A retry stays visible at the default level: many in a row mean a
		// dependency is struggling.
		l.LoggerAdapter.Info(msg, fields.Add(watermill.LogFields{"error": err}))
	default:
		l.LoggerAdapter.Error(msg, err, fields)
	}
}

func (l quietLogger) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return quietLogger{LoggerAdapter: l.LoggerAdapter.With(fields), log: l.log}
}
