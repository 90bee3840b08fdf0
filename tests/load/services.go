package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"
)

// The machine's own services, as .ci/run and the tests use them.
const (
	postgresServer = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	redisURL       = "redis://127.0.0.1:6379/0"
)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ensureServices starts PostgreSQL and Redis when they are installed but
// stopped, with the script CI uses; it creates no database (the run makes its own).
func ensureServices(ctx context.Context, root string, out io.Writer) error {
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "ensure-services.sh"))
	cmd.Env = append(os.Environ(), "ENSURE_SERVICES_DB=")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("scripts/ensure-services.sh: %w", err)
	}
	return nil
}

// database is the run's own database, dropped at the end.
type database struct {
	name string
	url  string
}

func createDatabase(ctx context.Context) (*database, error) {
	name := "custom_gpt_load_" + randomHex(6)
	conn, err := pgx.Connect(ctx, postgresServer)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	return &database{name: name, url: "postgres://postgres@127.0.0.1:5432/" + name + "?sslmode=disable"}, nil
}

// drop runs with its own deadline: the run's context may be cancelled already.
func (d *database) drop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, postgresServer)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+d.name+" WITH (FORCE)")
	return err
}

// dropStreams deletes every Redis key under the run's stream prefix.
func dropStreams(prefix string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts, err := goredis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		if err := c.Del(ctx, iter.Val()).Err(); err != nil {
			return err
		}
	}
	return iter.Err()
}

// serverSettings are the settings of PostgreSQL and Redis that move the
// figures: a commit's WAL flush, the cache, the connections, persistence.
func serverSettings(ctx context.Context) ([][2]string, error) {
	conn, err := pgx.Connect(ctx, postgresServer)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	var out [][2]string
	var version string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		return nil, err
	}
	out = append(out, [2]string{"PostgreSQL", version})
	for _, name := range []string{"synchronous_commit", "fsync", "shared_buffers", "max_connections", "wal_level"} {
		var v string
		if err := conn.QueryRow(ctx, "SHOW "+name).Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, [2]string{name, v})
	}

	opts, err := goredis.ParseURL(redisURL)
	if err != nil {
		return nil, err
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return nil, err
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			out = append(out, [2]string{"Redis", v})
		}
	}
	for _, name := range []string{"appendonly", "save"} {
		kv, err := c.ConfigGet(ctx, name).Result()
		if err != nil {
			return nil, err
		}
		v := kv[name]
		if v == "" {
			v = `""`
		}
		out = append(out, [2]string{"redis " + name, v})
	}
	return out, nil
}

// postgresBackends are the server processes of the connections to the run's
// database: the adapter's pools and the run's own. The server's shared
// processes (WAL writer, checkpointer) serve everyone and are left out.
func postgresBackends(ctx context.Context, pool *pgxpool.Pool, db string) []int {
	rows, err := pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1`, db)
	if err != nil {
		return nil
	}
	pids, _ := pgx.CollectRows(rows, pgx.RowTo[int])
	return pids
}

// redisPIDs is the Redis server's process, shared with whatever else uses it.
func redisPIDs(ctx context.Context) []int {
	opts, err := goredis.ParseURL(redisURL)
	if err != nil {
		return nil
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return nil
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			var pid int
			if _, err := fmt.Sscan(v, &pid); err == nil {
				return []int{pid}
			}
		}
	}
	return nil
}
