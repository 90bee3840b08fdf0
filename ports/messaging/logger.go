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
func NewLogger(log *slog.Logger) watermill.LoggerAdapter {
	return quietLogger{watermill.NewSlogLogger(log)}
}

type quietLogger struct{ watermill.LoggerAdapter }

func (l quietLogger) Info(msg string, fields watermill.LogFields) {
	l.LoggerAdapter.Debug(msg, fields)
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
	return quietLogger{l.LoggerAdapter.With(fields)}
}
