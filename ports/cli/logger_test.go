package cli

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// Libraries' INFO (zitadel/oidc lists each route it registers) shows only at
// DEBUG; their warnings keep their level.
func TestLibraryLoggerShowsInfoAtDebug(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	lib := libraryLogger(newLogger(&out, slog.LevelInfo))
	lib.Info("registered route", "endpoint", "/oauth/token")
	lib.With("component", "op").Warn("request error")
	if got := out.String(); strings.Contains(got, "registered route") || !strings.Contains(got, `"level":"WARN","msg":"request error","component":"op"`) {
		t.Errorf("at INFO the library logged %q", got)
	}

	out.Reset()
	lib = libraryLogger(newLogger(&out, slog.LevelDebug))
	lib.WithGroup("op").Info("registered route", "endpoint", "/oauth/token")
	if got := out.String(); !strings.Contains(got, `"level":"DEBUG","msg":"registered route","op":{"endpoint":"/oauth/token"}`) {
		t.Errorf("at DEBUG the library logged %q", got)
	}
}
