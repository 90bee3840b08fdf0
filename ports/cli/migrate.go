package cli

import (
	"context"
	"fmt"
)

func migrateCommand() *node {
	return leaf("migrate", "", "create the database if needed and apply migrations",
		noFlags(func(ctx context.Context, c *call, args []string) error {
			if len(args) != 0 {
				return misuse("takes no arguments")
			}
			s, err := c.setup()
			if err != nil {
				return err
			}
			n, err := s.Migrate(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.env.Stdout, "migrations applied: %d\n", n)
			return nil
		}))
}
