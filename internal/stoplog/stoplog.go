// Package stoplog keeps what a library logs about its own stop out of the
// service's errors: at the default level an ERROR means someone must act.
package stoplog

import "github.com/ThreeDotsLabs/watermill"

// Logger is a Watermill logger that writes at DEBUG the errors Stopping says
// only a stop causes; every other error stays an error.
type Logger struct {
	watermill.LoggerAdapter
	Stopping func(msg string, err error) bool
}

func (l Logger) Error(msg string, err error, fields watermill.LogFields) {
	if l.Stopping(msg, err) {
		l.Debug(msg, fields.Add(watermill.LogFields{"error": err}))
		return
	}
	l.LoggerAdapter.Error(msg, err, fields)
}

func (l Logger) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return Logger{LoggerAdapter: l.LoggerAdapter.With(fields), Stopping: l.Stopping}
}
