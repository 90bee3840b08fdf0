package postgres_test

import (
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/banktest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

func TestEmbeddedMemoryBankKeepsTheContract(t *testing.T) {
	t.Parallel()
	banktest.Run(t, func(t *testing.T) banktest.Bank {
		pool, _ := pgtest.NewPool(t)
		return postgres.NewEmbeddedMemoryBank(pool)
	})
}
