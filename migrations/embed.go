// Package migrations embeds the numbered SQL migrations that build the schema.
// Files are applied in order by goose; never edit one that has been released.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
